"""A caller's answer to an offer: accept it, decline it, or stop waiting altogether.

Accepting books the held slot under the entry id and takes the caller off the waitlist in
one unit of work. Declining (or leaving while an offer stands) cancels the hold; the reactor
sees that cancellation on booking.events and offers the slot to the next caller waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from schemas.base import DomainEvent
from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit
from services.booking.app.waitlist.streams import load_entries, located
from services.booking.domain import decider
from services.booking.domain.commands import CancelAppointment
from services.booking.domain.errors import SlotTaken, WrongStatus
from services.booking.domain.offers import booking_for, check_acceptable, check_declinable
from services.booking.domain.state import Appointment, DiaryDay
from services.booking.domain.waitlist import LeaveWaitlist, decide
from services.common.unit_of_work import Metadata, run_unit


@dataclass(frozen=True)
class Taken:
    """An accepted offer: the day it is booked on and the appointment as booked there."""

    day: DiaryDay
    appointment: Appointment
    events: list[DomainEvent]


class Answers:
    """Accepting or declining an offer, and leaving the waitlist."""

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def accept(self, appointment_id: str, meta: Metadata) -> Taken:
        """Book the slot held for a caller and take them off the waitlist, in one unit of work."""
        try:
            return await run_unit(self._h.store, lambda unit: self._accept(unit, appointment_id, meta))
        except asyncpg.ExclusionViolationError:
            raise SlotTaken("the room was taken at the same moment", []) from None

    async def _accept(self, unit: BookingUnit, appointment_id: str, meta: Metadata) -> Taken:
        entries = await load_entries(unit, appointment_id)
        day = await located(self._h, unit, appointment_id)
        found = day.state.find(appointment_id) if day else None
        if day and found and found.status == "booked" and appointment_id in entries.state.waitlist.left:
            return Taken(day.state, found, [])  # accepted already: the same answer again
        held = check_acceptable(found, appointment_id, meta.now)
        joined = entries.state.joined.get(appointment_id)
        if day is None or joined is None:
            raise WrongStatus("appointment_id", f"{appointment_id} is no longer on the waitlist")
        on_duty = await unit.views.on_duty(day.state.diary)
        booked = decider.decide(booking_for(day.state, held, joined, on_duty, meta.now), day.state)
        leave = LeaveWaitlist(appointment_id=appointment_id, booked=True, now=meta.now)
        left = decide(leave, entries.state.waitlist)
        after = unit.append(day, booked, meta)
        unit.append(entries, left, meta)
        await unit.views.record_placement(booked)
        await unit.views.record_waitlist([*booked, *left])
        taken = after.state.find(appointment_id)
        assert taken is not None
        return Taken(after.state, taken, [*booked, *left])

    async def decline(self, appointment_id: str, leave: bool, meta: Metadata) -> list[DomainEvent]:
        """The caller does not want the slot held for them: free it (and leave the waitlist if asked)."""
        return await self._release(appointment_id, meta, offer_needed=True, leave=leave)

    async def leave(self, appointment_id: str, meta: Metadata) -> list[DomainEvent]:
        """The caller no longer waits: free any slot held for them and take them off the waitlist."""
        return await self._release(appointment_id, meta, offer_needed=False, leave=True)

    async def _release(
        self, appointment_id: str, meta: Metadata, *, offer_needed: bool, leave: bool
    ) -> list[DomainEvent]:
        async def work(unit: BookingUnit) -> list[DomainEvent]:
            entries = await load_entries(unit, appointment_id)
            day = await located(self._h, unit, appointment_id)
            found = day.state.find(appointment_id) if day else None
            if offer_needed:
                check_declinable(found, appointment_id)
            freed: list[DomainEvent] = []
            if day is not None and found is not None and found.status == "offered":
                # A declined hold is cancelled by the public: the time did not suit them.
                cancel = CancelAppointment(
                    appointment_id=appointment_id, initiated_by="public", reason="caller-unavailable",
                    now=meta.now,
                )  # fmt: skip
                freed = list(decider.decide(cancel, day.state))
                unit.append(day, freed, meta)
                await unit.views.record_placement(freed)
            left: list[DomainEvent] = []
            if leave:
                left = list(decide(LeaveWaitlist(appointment_id=appointment_id, booked=False, now=meta.now),
                                   entries.state.waitlist))  # fmt: skip
                unit.append(entries, left, meta)
            await unit.views.record_waitlist([*freed, *left])
            return [*freed, *left]

        return await run_unit(self._h.store, work)
