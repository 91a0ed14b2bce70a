"""After booking: reschedule (within a day or to another), cancel, attendance and no-shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentRescheduled,
    CancelReason,
    Initiator,
    MissedReason,
    Outcome,
    RescheduleReason,
)
from schemas.personal import Sealed
from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit
from services.booking.domain import decider
from services.booking.domain.commands import (
    CancelAppointment,
    Command,
    MoveAppointmentIn,
    MoveAppointmentOut,
    RecordAttendance,
    RecordNoShow,
    RescheduleAppointment,
)
from services.booking.domain.errors import Refusal, UnknownAppointment
from services.booking.domain.state import Diary, DiaryDay
from services.common.shredding import SubjectErased
from services.common.unit_of_work import Loaded, Metadata, load_one, run_unit


@dataclass(frozen=True)
class Why:
    """Why an appointment moves: a reason code, staff's note (sealed), the withdrawal behind it."""

    reason: RescheduleReason
    note: Sealed | None = None
    withdrawal_id: str | None = None


async def located(handlers: BookingHandlers, unit: BookingUnit, appointment_id: str) -> Loaded[DiaryDay]:
    """The diary day an appointment lives on now; UnknownAppointment when it lives nowhere."""
    stream = await unit.views.locate(appointment_id)
    if stream is None:
        raise UnknownAppointment(appointment_id)
    return await load_one(unit, handlers.days, stream)


async def move_between_days(
    unit: BookingUnit,
    old: Loaded[DiaryDay],
    new: Loaded[DiaryDay],
    appointment_id: str,
    start: time,
    by: Initiator,
    why: Why,
    meta: Metadata,
) -> list[DomainEvent]:
    """Claim the new time on the new day, then free the old one: both in this unit, or neither."""
    found = old.state.find(appointment_id)
    if found is None:
        raise UnknownAppointment(appointment_id)
    moved_in = decider.decide(
        MoveAppointmentIn(
            appointment_id=appointment_id, from_stream=old.stream_id, from_starts_at=found.starts_at,
            from_ends_at=found.ends_at, start=start, initiated_by=by, reason=why.reason, note=why.note,
            subject_id=found.subject_id, withdrawal_id=why.withdrawal_id,
            on_duty=await unit.views.on_duty(new.state.diary), now=meta.now,
        ),
        new.state,
    )  # fmt: skip
    if not moved_in:
        return []
    arrived = next(e for e in moved_in if isinstance(e, AppointmentRescheduled))
    moved_out = decider.decide(
        MoveAppointmentOut(
            appointment_id=appointment_id, to_stream=new.stream_id, to_starts_at=arrived.starts_at,
            initiated_by=by, reason=why.reason, now=meta.now,
        ),
        old.state,
    )  # fmt: skip
    unit.append(new, moved_in, meta)
    unit.append(old, moved_out, meta)
    # The room is freed on the old day before it is taken on the new one.
    await unit.views.record_placement([*moved_out, *moved_in])
    return [*moved_in, *moved_out]


class Lifecycle:
    """Commands on an appointment that already exists, wherever its day is now.

    Staff's own words (a note beside a reason code) are sealed under the caller's key before
    they reach an event, so erasing the caller erases the note with everything else.
    """

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def _sealed(self, state: DiaryDay, appointment_id: str, note: str | None) -> Sealed | None:
        if note is None:
            return None
        found = state.find(appointment_id)
        if found is None or found.subject_id is None:
            raise Refusal("note", "no note can be kept for this appointment: give the reason code alone")
        try:
            return (await self._h.keys.seal(found.subject_id, {"note": note}))["note"]
        except SubjectErased:
            raise Refusal("note", "the caller's details have been erased: no note can be kept") from None

    async def _on_its_day(
        self,
        appointment_id: str,
        meta: Metadata,
        command: Callable[[Sealed | None], Command],
        note: str | None = None,
    ) -> list[DomainEvent]:
        async def work(unit: BookingUnit) -> list[DomainEvent]:
            day = await located(self._h, unit, appointment_id)
            sealed = await self._sealed(day.state, appointment_id, note)
            events = decider.decide(command(sealed), day.state)
            unit.append(day, events, meta)
            await unit.views.record_placement(events)
            return list(events)

        return await run_unit(self._h.store, work)

    async def reschedule(
        self,
        appointment_id: str,
        day: date,
        start: time,
        by: Initiator,
        reason: RescheduleReason,
        meta: Metadata,
        note: str | None = None,
    ) -> list[DomainEvent]:
        """Move an appointment to another slot: on its own day, or to another day in one unit."""

        async def work(unit: BookingUnit) -> list[DomainEvent]:
            old = await located(self._h, unit, appointment_id)
            why = Why(reason, await self._sealed(old.state, appointment_id, note))
            target = Diary(old.state.diary.place, old.state.diary.place_id, day)
            if target != old.state.diary:
                (new,) = await unit.load(self._h.days, [target.stream_id])
                return await move_between_days(unit, old, new, appointment_id, start, by, why, meta)
            command = RescheduleAppointment(
                appointment_id=appointment_id, start=start, initiated_by=by, reason=why.reason,
                note=why.note, on_duty=await unit.views.on_duty(target), now=meta.now,
            )  # fmt: skip
            events = decider.decide(command, old.state)
            unit.append(old, events, meta)
            await unit.views.record_placement(events)
            return list(events)

        return await run_unit(self._h.store, work)

    async def cancel(
        self,
        appointment_id: str,
        by: Initiator,
        reason: CancelReason,
        meta: Metadata,
        note: str | None = None,
    ) -> list[DomainEvent]:
        """Cancel an appointment, saying who asked and why."""
        return await self._on_its_day(
            appointment_id,
            meta,
            lambda sealed: CancelAppointment(
                appointment_id=appointment_id, initiated_by=by, reason=reason, note=sealed, now=meta.now
            ),
            note,
        )

    async def attended(
        self, appointment_id: str, outcome: Outcome, officer_id: str | None, meta: Metadata
    ) -> list[DomainEvent]:
        """Record that the meeting took place, and its outcome."""
        return await self._on_its_day(
            appointment_id,
            meta,
            lambda _: RecordAttendance(
                appointment_id=appointment_id, officer_id=officer_id, outcome=outcome, now=meta.now
            ),
        )

    async def missed(
        self,
        appointment_id: str,
        by: Initiator,
        reason: MissedReason,
        meta: Metadata,
        note: str | None = None,
    ) -> list[DomainEvent]:
        """Record a no-show: by the public, or by the police (no officer came)."""
        return await self._on_its_day(
            appointment_id,
            meta,
            lambda sealed: RecordNoShow(
                appointment_id=appointment_id, missed_by=by, reason=reason, note=sealed, now=meta.now
            ),
            note,
        )
