"""Putting a caller on a waitlist, and saying where their entry stands.

Joining seals the caller's details as a booking does and records ``WaitlistJoined`` on the
waitlist stream (``waitlist:{place}:{place_id}``); the entry id is the appointment id the
caller will be booked under. Offering them a slot is the reactor's business, not join's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg

from schemas.base import DomainEvent
from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit
from services.booking.app.waitlist.forms import RequestUsed, WaitlistForm, check_range, entry_id_for
from services.booking.app.waitlist.streams import ENTRIES, located
from services.booking.domain.errors import Refusal
from services.booking.domain.offers import NoOffer
from services.booking.domain.rules import check_grade
from services.booking.domain.state import Appointment, Diary, DiaryDay
from services.booking.domain.waitlist import JoinWaitlist, Waitlist, decide
from services.common.unit_of_work import Metadata, load_one, run_unit

EntryState = Literal["waiting", "offered", "booked", "left"]


@dataclass(frozen=True)
class EntryStatus:
    """Where a waitlist entry stands, and its appointment on a day when it has one."""

    appointment_id: str
    waitlist_stream: str
    state: EntryState
    appointment: Appointment | None
    day: DiaryDay | None


class Waitlists:
    """Joining a waitlist, and seeing where an entry stands."""

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def join(self, form: WaitlistForm, meta: Metadata) -> tuple[str, list[DomainEvent]]:
        """Put a caller on a waitlist; returns the entry (appointment) id and the events recorded."""
        # The cheap refusals first, so nobody's details are sealed for a request refused anyway.
        check_grade(form.incident_grade)
        check_range(form.from_day, form.to_day)
        try:
            self._h.initial(Diary(form.place, form.place_id, form.from_day))
        except Refusal as unknown:
            raise Refusal("place_id", unknown.reason) from None
        if form.place == "diary-car" and form.caller.address is None:
            raise Refusal("caller.address", "a home visit needs the caller's address")
        caller, briefing = await self._h.seal(form.caller, form.briefing)
        command = JoinWaitlist(
            appointment_id=entry_id_for(form.request_id), from_day=form.from_day, to_day=form.to_day,
            incident_grade=form.incident_grade, caller=caller, briefing=briefing,
            offer_hold_seconds=form.offer_hold_seconds, now=meta.now,
        )  # fmt: skip
        stream = Waitlist(form.place, form.place_id).stream_id
        elsewhere = RequestUsed("request_id", "this request id already put the caller on another waitlist")

        async def work(unit: BookingUnit) -> list[DomainEvent]:
            entry = await unit.views.entry_of(command.appointment_id)
            if entry is not None and entry.waitlist_stream != stream:
                raise elsewhere
            loaded = await load_one(unit, ENTRIES, stream)
            events: list[DomainEvent] = list(decide(command, loaded.state.waitlist))
            unit.append(loaded, events, meta)
            await unit.views.record_waitlist(events)
            return events

        try:
            events = await run_unit(self._h.store, work)
        except asyncpg.UniqueViolationError:
            # The same request id joining another waitlist at the same moment: one id, one waitlist.
            raise elsewhere from None
        return command.appointment_id, events

    async def status(self, appointment_id: str) -> EntryStatus:
        """Where an entry stands: waiting, offered a slot (until when), booked, or gone."""

        async def work(unit: BookingUnit) -> EntryStatus:
            entry = await unit.views.entry_of(appointment_id)
            if entry is None:
                raise NoOffer("appointment_id", f"no waitlist entry {appointment_id}")
            day = await located(self._h, unit, appointment_id)
            found = day.state.find(appointment_id) if day else None
            state: EntryState
            if entry.left:
                state = "booked" if entry.booked else "left"
            elif found is not None and found.status == "offered":
                state = "offered"
            else:
                state = "waiting"
            shown = day.state if day else None
            return EntryStatus(appointment_id, entry.waitlist_stream, state, found, shown)

        return await run_unit(self._h.store, work)
