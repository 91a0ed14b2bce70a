"""Booking's reaction to roster.events: capacity comes and goes; booked times hold.

When an officer is withdrawn (or a duty ends early) each of their affected
appointments is reassigned to another officer free at that time, else moved to
the earliest free slot that day, else to the earliest free slot on a later day;
the caller is told whenever the time changes. All of it is one unit of work inside
the consumer's transaction, with the offset it records: delivered twice, it changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from schemas.booking import AppointmentDisplaced, ReassignReason
from schemas.envelope import Envelope
from schemas.roster import DutyAssigned, DutyEnded, OfficerWithdrawn
from services.booking.adapters.roster_facts import CAPACITY_DUTIES
from services.booking.app.handlers import BookingHandlers
from services.booking.app.lifecycle import Why, move_between_days
from services.booking.app.ports import BookingUnit
from services.booking.app.waitlist.reactor import offer_new_duty
from services.booking.domain import decider
from services.booking.domain.calendar import local_time
from services.booking.domain.capacity import free_slots
from services.booking.domain.commands import CoverWithdrawal
from services.booking.domain.state import Diary
from services.common.consumer import Position
from services.common.unit_of_work import Metadata, load_one, run_unit

# The roster events that change capacity; registering an officer changes none.
ROSTER_FACTS = frozenset(e.event_type for e in (DutyAssigned, DutyEnded, OfficerWithdrawn))
# How far ahead a displaced appointment may move before it is left for a supervisor.
LOOK_AHEAD_DAYS = 14


class RosterChanges:
    """Applies roster events to booking's capacity tables and keeps booked times."""

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """The consumer's apply: record the roster fact, then cover what it takes away."""
        event = env.domain_event()
        meta = Metadata(
            correlation_id=env.correlation_id,
            actor=env.actor or "roster",
            now=datetime.now(UTC),
            causation_id=str(env.event_id),
        )

        async def work(unit: BookingUnit) -> None:
            views = unit.views
            match event:
                case DutyAssigned() if event.duty in CAPACITY_DUTIES:
                    await views.record_duty(
                        event.duty_id, event.officer_id, event.duty, event.station_id, event.district_id,
                        event.starts_at, event.ends_at,
                    )  # fmt: skip
                    # New duty is new capacity: the callers waiting for those days are offered it.
                    await offer_new_duty(self._h, unit, event, meta)
                case DutyEnded():
                    planned = await views.planned_end(event.duty_id)
                    if planned is None or event.ends_at >= planned:
                        return
                    days = await views.places_of(event.officer_id, event.ends_at, planned)
                    await views.end_duty(event.duty_id, event.ends_at)
                    await self._cover(
                        unit, days, f"duty-ended:{event.duty_id}", event.officer_id, event.ends_at,
                        planned, "duty-ended-early", meta,
                    )  # fmt: skip
                case OfficerWithdrawn():
                    if not await views.record_withdrawal(
                        event.withdrawal_id, event.officer_id, event.starts_at, event.ends_at, event.reason
                    ):
                        return
                    days = await views.places_of(event.officer_id, event.starts_at, event.ends_at)
                    await self._cover(
                        unit, days, event.withdrawal_id, event.officer_id, event.starts_at, event.ends_at,
                        "officer-withdrawn", meta,
                    )  # fmt: skip

        await run_unit(self._h.store, work, within=conn)

    async def _cover(
        self,
        unit: BookingUnit,
        days: list[Diary],
        withdrawal_id: str,
        officer_id: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: ReassignReason,
        meta: Metadata,
    ) -> None:
        await unit.load(self._h.days, [d.stream_id for d in days])  # every day in one read
        for diary in days:
            # As this unit has left it: a displaced appointment may have moved onto a later one.
            day = await load_one(unit, self._h.days, diary.stream_id)
            command = CoverWithdrawal(
                withdrawal_id=withdrawal_id, officer_id=officer_id, starts_at=starts_at, ends_at=ends_at,
                reason=reason, on_duty=await unit.views.on_duty(diary), now=meta.now,
            )  # fmt: skip
            events = decider.decide(command, day.state)
            unit.append(day, events, meta)
            await unit.views.record_placement(events)
            for event in events:
                if isinstance(event, AppointmentDisplaced):
                    await self._move_to_a_later_day(unit, diary, event, meta)

    async def _move_to_a_later_day(
        self, unit: BookingUnit, place: Diary, event: AppointmentDisplaced, meta: Metadata
    ) -> None:
        ahead = [
            Diary(place.place, place.place_id, place.day + timedelta(days=n))
            for n in range(1, LOOK_AHEAD_DAYS + 1)
        ]
        on_duty = await unit.views.on_duty_days(place.place, place.place_id, ahead[0].day, ahead[-1].day)
        later = await unit.load(self._h.days, [d.stream_id for d in ahead])
        for target, new in zip(ahead, later, strict=True):
            slots = free_slots(new.state, meta.now, on_duty[target.day])
            if slots:
                old = await load_one(unit, self._h.days, place.stream_id)  # as this unit left it
                await move_between_days(
                    unit, old, new, event.appointment_id, local_time(slots[0].starts_at), "police",
                    Why(event.reason, withdrawal_id=event.withdrawal_id), meta,
                )  # fmt: skip
                return
        # Nobody is free for two weeks: it stays displaced, visible to supervisors in the diary.
