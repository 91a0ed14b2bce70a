"""Booking's handlers: validate and seal at the edge, load the day, decide, append."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import asyncpg

from schemas.base import DomainEvent
from schemas.booking import Briefing, CallerDetails, DiaryCarVisitBooked, Place, Slot, SlotBooked
from services.booking.adapters import roster_facts, store
from services.booking.adapters.personal import normalise_phone, normalise_postcode, seal_caller
from services.booking.app.forms import BookingForm, BriefingForm, CallerForm
from services.booking.domain import commands, decider
from services.booking.domain import reference as county_reference
from services.booking.domain.calendar import to_utc
from services.booking.domain.capacity import free_slots, nearest_alternatives
from services.booking.domain.commands import OnDuty
from services.booking.domain.errors import Refusal, SlotTaken
from services.booking.domain.reference import CountyState
from services.booking.domain.state import Diary, DiaryDay
from services.common.commands import Metadata, events_of, run_command
from services.common.config import Settings
from services.common.consumer import Transient
from services.common.eventstore import load_stream
from services.common.reference import County
from services.common.shredding import KeyStore


class NotSeeded(Transient):
    """Booking has no county reference data yet."""

    def __init__(self) -> None:
        super().__init__("the county's reference data is not loaded yet: run `appointments seed`")


# How far either side of a full day to look for the nearest alternatives.
ALTERNATIVE_DAYS = 7
MAX_RANGE_DAYS = 62


@dataclass
class BookingHandlers:
    """The booking use cases, over the service's database and key store."""

    pool: asyncpg.Pool
    keys: KeyStore
    settings: Settings
    source: str
    reference: CountyState = field(default_factory=CountyState)

    @property
    def county(self) -> County:
        """The reference data in force; refused until `appointments seed` has loaded it."""
        if self.reference.county is None:
            raise NotSeeded()
        return self.reference.county

    async def load_reference(self) -> None:
        """Read the county reference stream into memory (at start-up)."""
        async with self.pool.acquire() as conn:
            stored = await load_stream(conn, county_reference.STREAM, self.source)
        state = CountyState()
        for event in events_of(stored):
            state = county_reference.evolve(state, county_reference.event_of(event))
        self.reference = state

    async def seed_reference(self, county: County, meta: Metadata) -> bool:
        """Record the county's reference data if it changed; returns whether it did."""
        state, events = await run_command(
            self.pool,
            source=self.source,
            stream_id=county_reference.STREAM,
            initial=CountyState(),
            evolve=lambda st, e: county_reference.evolve(st, county_reference.event_of(e)),
            decide=lambda st: list(county_reference.decide_load(county, meta.now, st)),
            meta=meta,
        )
        self.reference = state
        return bool(events)

    def initial(self, diary: Diary) -> DiaryDay:
        """An empty day of a station or diary car, with the reference data in force."""
        return decider.initial_state(diary, self.county)

    async def on_duty(self, conn: asyncpg.Connection, diary: Diary) -> OnDuty:
        """Who is on appointment (or diary-car) duty for this day, net of withdrawals."""
        return await roster_facts.on_duty(conn, diary)

    async def _day(self, conn: asyncpg.Connection, diary: Diary) -> DiaryDay:
        state = self.initial(diary)
        return decider.fold(state, events_of(await load_stream(conn, diary.stream_id, self.source)))

    async def free_slots(
        self, place: Place, place_id: str, first: date, last: date, now: datetime
    ) -> list[Slot]:
        """Every free slot of a station or diary car from ``first`` to ``last`` (London dates)."""
        if last < first:
            raise Refusal("to", "the range ends before it starts")
        if (last - first).days >= MAX_RANGE_DAYS:
            raise Refusal("to", f"ask for at most {MAX_RANGE_DAYS} days at a time")
        self.initial(Diary(place, place_id, first))  # refuses an unknown place up front
        slots: list[Slot] = []
        async with self.pool.acquire() as conn:
            day = first
            while day <= last:
                diary = Diary(place, place_id, day)
                slots += free_slots(await self._day(conn, diary), now, await self.on_duty(conn, diary))
                day += timedelta(days=1)
        return slots

    async def seal(self, caller: CallerForm, b: BriefingForm) -> tuple[CallerDetails, Briefing]:
        """Validate the caller's phone and postcode, and seal their details and the free texts."""
        phone = (
            normalise_phone(caller.phone, "caller.phone", production=self.settings.is_production)
            if (caller.phone)
            else None
        )
        address = None
        if caller.address is not None:
            a = caller.address
            postcode = normalise_postcode(a.postcode, "caller.address.postcode")
            address = ", ".join(p for p in (a.line1, a.line2, a.town, postcode) if p)
        texts = {
            k: v
            for k, v in {
                "summary": b.summary,
                "background": b.background,
                "vulnerability": b.vulnerability,
                "access_needs": b.access_needs,
            }.items()
            if v is not None
        }
        details, sealed = await seal_caller(
            self.keys,
            name=caller.name,
            phone=phone,
            address=address,
            texts=texts,
            secret=self.settings.token_secret,
        )
        briefing = Briefing(
            case_reference=b.case_reference,
            summary=sealed["summary"],
            background=sealed.get("background"),
            vulnerability=sealed.get("vulnerability"),
            access_needs=sealed.get("access_needs"),
            vulnerability_flags=b.vulnerability_flags,
            preferred_contact=b.preferred_contact,
            language=b.language,
            interpreter_needed=b.interpreter_needed,
            thrive_risk=b.thrive_risk,
            safe_to_text=b.safe_to_text,
            safe_to_call=b.safe_to_call,
        )
        return details, briefing

    async def book(
        self,
        place: Place,
        place_id: str,
        form: BookingForm,
        meta: Metadata,
        *,
        appointment_id: str | None = None,
        within: asyncpg.Connection | None = None,
    ) -> DomainEvent:
        """Book a station slot or diary-car window; SlotTaken carries the three nearest alternatives."""
        details, briefing = await self.seal(form.caller, form.briefing)
        appointment_id = appointment_id or str(uuid.uuid4())
        diary = Diary(place, place_id, form.day)
        self.initial(diary)  # an unknown place is refused before anything else
        # Read just before deciding; a withdrawal landing in between is covered by the
        # roster consumer, which reassigns whatever this booking was given.
        if within is not None:
            on_duty = await self.on_duty(within, diary)
        else:
            async with self.pool.acquire() as conn:
                on_duty = await self.on_duty(conn, diary)
        command = commands.book(
            place,
            place_id,
            appointment_id=appointment_id,
            request_id=form.request_id,
            day=form.day,
            start=form.start,
            incident_grade=form.incident_grade,
            caller=details,
            briefing=briefing,
            on_duty=on_duty,
            now=meta.now,
        )
        try:
            _, events = await run_command(
                self.pool,
                source=self.source,
                stream_id=diary.stream_id,
                initial=self.initial(diary),
                evolve=lambda state, e: decider.evolve(state, decider.event_of(e)),
                decide=lambda state: list(decider.decide(command, state)),
                meta=meta,
                also_write=store.record_placement,
                within=within,
            )
        except SlotTaken as taken:
            raise await self._with_wider_alternatives(
                taken, diary, to_utc(form.day, form.start), meta.now
            ) from None
        except asyncpg.ExclusionViolationError:
            # The decider let it through but the room backstop did not: treat as a lost race.
            raise SlotTaken("the room was taken at the same moment", []) from None
        booked = [e for e in events if isinstance(e, SlotBooked | DiaryCarVisitBooked)]
        assert booked, "a booking decision without a booking event"
        return booked[0]

    async def _with_wider_alternatives(
        self, taken: SlotTaken, diary: Diary, wanted: datetime, now: datetime
    ) -> SlotTaken:
        """The three nearest free slots, looking at the days around when this day is short of them."""
        if len(taken.alternatives) >= 3:
            return taken
        first = max(diary.day - timedelta(days=ALTERNATIVE_DAYS), now.date())
        last = diary.day + timedelta(days=ALTERNATIVE_DAYS)
        free = await self.free_slots(diary.place, diary.place_id, first, last, now)
        return SlotTaken(taken.reason, nearest_alternatives(wanted, free, 3))
