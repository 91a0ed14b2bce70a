"""Roster's handlers: load an officer's stream, decide, append with the index, retry on conflict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from schemas.base import DomainEvent
from schemas.booking import Place
from schemas.roster import StaffMemberNamed
from services.common.commands import Metadata, events_of, run_command
from services.common.eventstore import load_stream
from services.common.london import LONDON
from services.common.reference import County
from services.roster.adapters import store
from services.roster.app.county import CountyReference
from services.roster.domain import staff as directory
from services.roster.domain.commands import AssignDuty, Command, EndDuty, RegisterOfficer, WithdrawOfficer
from services.roster.domain.cover import Cover, cover_at
from services.roster.domain.decider import decide, event_of, evolve, fold, initial_state
from services.roster.domain.errors import Conflict, Refusal, UnknownOfficer
from services.roster.domain.staff import NameStaffMember, StaffMember
from services.roster.domain.state import Officer, stream_id


def london_day(day: date) -> tuple[datetime, datetime]:
    """A Europe/London date as a UTC span, from midnight to midnight (23 or 25 hours at a clock change)."""
    starts = datetime.combine(day, time(0), tzinfo=LONDON)
    ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
    return starts.astimezone(UTC), ends.astimezone(UTC)


# Stands in for the county when only reading; no command is ever decided against it.
NO_COUNTY_YET = County(name="not received yet", timezone="Europe/London", districts=(), stations=())


@dataclass
class RosterHandlers:
    """The roster use cases, over the service's database."""

    pool: asyncpg.Pool
    source: str
    reference: CountyReference

    @property
    def county(self) -> County:
        """The county in force, as booking recorded it; CountyNotReceived (503) until one arrives."""
        return self.reference.county

    async def _run(self, officer_id: str, command: Command, meta: Metadata) -> tuple[Officer, bool]:
        """Decide a command on the officer's stream; returns the officer after it and whether it changed."""
        officer, events = await run_command(
            self.pool,
            source=self.source,
            stream_id=stream_id(officer_id),
            initial=initial_state(officer_id, self.county),
            evolve=lambda state, e: evolve(state, event_of(e)),
            decide=lambda state: list(decide(command, state)),
            meta=meta,
            also_write=store.record,
        )
        return officer, bool(events)

    async def register(self, command: RegisterOfficer, meta: Metadata) -> tuple[Officer, bool]:
        """Register an officer; a collar number already held by another officer is refused (409)."""
        async with self.pool.acquire() as conn:
            holder = await store.officer_with_collar(conn, command.collar_number)
        if holder is not None and holder != command.officer_id:
            raise _collar_taken(command.collar_number, f"held by officer {holder}")
        try:
            return await self._run(command.officer_id, command, meta)
        except asyncpg.UniqueViolationError:
            # Two registrations of one collar number at the same moment: the table kept one.
            raise _collar_taken(
                command.collar_number, "given to another officer at the same moment"
            ) from None

    async def assign_duty(self, command: AssignDuty, meta: Metadata) -> tuple[Officer, bool]:
        """Put an officer on a duty; a clash with a duty already held is refused (409)."""
        try:
            return await self._run(command.officer_id, command, meta)
        except asyncpg.ExclusionViolationError:
            # The decider guards this; the table's backstop catching it means a bug, still not a 500.
            raise Conflict("starts_at", "the officer already holds a duty overlapping that span") from None

    async def end_duty(self, command: EndDuty, meta: Metadata) -> tuple[Officer, bool]:
        """End a duty early or as planned."""
        return await self._run(command.officer_id, command, meta)

    async def withdraw(self, command: WithdrawOfficer, meta: Metadata) -> tuple[Officer, bool]:
        """Withdraw an officer from appointment or diary-car duty for a span."""
        return await self._run(command.officer_id, command, meta)

    async def _load(self, conn: asyncpg.Connection, officer_id: str) -> Officer:
        stored = await load_stream(conn, stream_id(officer_id), self.source)
        # Reading an officer folds only their own events: it needs no county, so reads answer
        # even before the county has reached the roster.
        county = self.reference.current.county if self.reference.current else NO_COUNTY_YET
        return fold(initial_state(officer_id, county), events_of(stored))

    async def officer(self, officer_id: str) -> Officer:
        """An officer with their duties and withdrawals; UnknownOfficer when not on the roster."""
        async with self.pool.acquire() as conn:
            officer = await self._load(conn, officer_id)
        if officer.registration is None:
            raise UnknownOfficer(officer_id)
        return officer

    async def officers(self, station_id: str | None, district_id: str | None) -> list[Officer]:
        """The officers registered at a station or in a district."""
        async with self.pool.acquire() as conn:
            ids = await store.officers_at(conn, station_id, district_id)
            return [await self._load(conn, officer_id) for officer_id in ids]

    async def name_staff_member(self, command: NameStaffMember, meta: Metadata) -> tuple[StaffMember, bool]:
        """Record the name a person signed in with; whether it was new or changed."""
        person, events = await run_command(
            self.pool,
            source=self.source,
            stream_id=directory.stream_id(command.subject),
            initial=directory.initial_state(command.subject),
            evolve=lambda state, e: directory.evolve(state, _named(e)),
            decide=lambda state: list(directory.decide(command, state)),
            meta=meta,
            also_write=store.record,
        )
        return person, bool(events)

    async def staff(self) -> list[tuple[str, str, str]]:
        """Everyone the staff directory names: (subject, name, role)."""
        async with self.pool.acquire() as conn:
            return await store.staff(conn)

    def _check_place(self, place: Place, place_id: str) -> None:
        try:
            if place == "station":
                if not self.county.station(place_id).offers_appointments:
                    raise Refusal("place_id", f"{place_id} station has no appointment room")
            else:
                self.county.district(place_id)
        except LookupError:
            kind = "station" if place == "station" else "district"
            raise Refusal("place_id", f"there is no {kind} {place_id!r}") from None

    async def cover(self, place: Place, place_id: str, day: date) -> list[Cover]:
        """Who is on appointment duty at a station (or on a diary car) on a London day, net of withdrawals."""
        self._check_place(place, place_id)
        starts, ends = london_day(day)
        found: list[Cover] = []
        async with self.pool.acquire() as conn:
            for officer_id in await store.officers_serving(conn, place, place_id, starts, ends):
                found += cover_at(await self._load(conn, officer_id), place, place_id, starts, ends)
        return sorted(found, key=lambda c: (c.duty.starts_at, c.collar_number))


def _named(event: DomainEvent) -> StaffMemberNamed:
    if isinstance(event, StaffMemberNamed):
        return event
    raise TypeError(f"{event.event_type} is not an event of the staff directory")


def _collar_taken(collar_number: str, how: str) -> Conflict:
    return Conflict("collar_number", f"collar number {collar_number} is already on the roster, {how}")
