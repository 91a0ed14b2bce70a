"""Moving a booked appointment: within its day, or to another day in two steps."""

from __future__ import annotations

from datetime import datetime

from schemas.booking import (
    AppointmentMovedOut,
    AppointmentRescheduled,
)
from services.booking.domain.booking import claim
from services.booking.domain.capacity import Allocation
from services.booking.domain.commands import (
    MoveAppointmentIn,
    MoveAppointmentOut,
    RescheduleAppointment,
)
from services.booking.domain.errors import Refusal, UnknownAppointment, WrongStatus
from services.booking.domain.rules import check_day, check_future, resolve_time
from services.booking.domain.state import Appointment, DiaryDay, DiaryDayEvent, Status

# A displaced appointment (its officer withdrawn, nobody free) still needs a new time.
MOVABLE: frozenset[Status] = frozenset({"booked", "displaced"})


def appointment(state: DiaryDay, appointment_id: str, allowed: frozenset[Status]) -> Appointment:
    """The appointment on this day, refused when it is missing or in another state."""
    found = state.find(appointment_id)
    if found is None:
        raise UnknownAppointment(appointment_id)
    if found.status not in allowed:
        raise WrongStatus("appointment_id", f"appointment {appointment_id} is {found.status}")
    return found


def reschedule(command: RescheduleAppointment, state: DiaryDay) -> list[DiaryDayEvent]:
    """Move an appointment within its day, keeping its officer when they are free."""
    found = appointment(state, command.appointment_id, MOVABLE)
    starts_at, ends_at = resolve_time(state, command.start)
    if found.status == "booked" and found.starts_at == starts_at:
        return []
    check_future(starts_at, command.now)
    got = claim(
        state, starts_at, ends_at, command.on_duty, command.now, found.appointment_id, found.officer_id
    )
    span = (found.starts_at, found.ends_at, starts_at, ends_at)
    return [_rescheduled(command, state, state.diary.stream_id, span, got)]


def move_in(command: MoveAppointmentIn, state: DiaryDay) -> list[DiaryDayEvent]:
    """Claim a new time on this day for an appointment held on another day."""
    if command.from_stream == state.diary.stream_id:
        raise Refusal("from_stream", "a move within one day is a reschedule")
    starts_at, ends_at = resolve_time(state, command.start)
    existing = state.find(command.appointment_id)
    if existing is not None:
        if existing.status == "booked" and existing.starts_at == starts_at:
            return []
        raise WrongStatus("appointment_id", f"appointment {command.appointment_id} is {existing.status}")
    check_day(state)
    check_future(starts_at, command.now)
    got = claim(state, starts_at, ends_at, command.on_duty, command.now)
    span = (command.from_starts_at, command.from_ends_at, starts_at, ends_at)
    return [_rescheduled(command, state, command.from_stream, span, got)]


def _rescheduled(
    command: RescheduleAppointment | MoveAppointmentIn,
    state: DiaryDay,
    from_stream: str,
    span: tuple[datetime, datetime, datetime, datetime],
    got: Allocation,
) -> AppointmentRescheduled:
    """The move to ``span``'s new time on this day; the police moving it means the caller is told."""
    from_starts_at, from_ends_at, starts_at, ends_at = span
    if isinstance(command, MoveAppointmentIn):
        subject_id, withdrawal_id = command.subject_id, command.withdrawal_id
    else:
        found = state.find(command.appointment_id)
        subject_id, withdrawal_id = (found.subject_id if found else None), None
    return AppointmentRescheduled(
        appointment_id=command.appointment_id,
        diary=state.diary.stream_id,
        from_diary=from_stream,
        from_starts_at=from_starts_at,
        from_ends_at=from_ends_at,
        starts_at=starts_at,
        ends_at=ends_at,
        room_id=got.room_id,
        officer_id=got.officer_id,
        initiated_by=command.initiated_by,
        reason=command.reason,
        note=command.note,
        caller_to_be_told=command.initiated_by == "police",
        rescheduled_at=command.now,
        subject_id=subject_id,
        withdrawal_id=withdrawal_id,
    )


def move_out(command: MoveAppointmentOut, state: DiaryDay) -> list[DiaryDayEvent]:
    """Free the old time of an appointment now held on another day."""
    found = appointment(state, command.appointment_id, MOVABLE | {"moved-out"})
    if found.status == "moved-out":
        return []
    return [
        AppointmentMovedOut(
            appointment_id=found.appointment_id,
            diary=state.diary.stream_id,
            to_diary=command.to_stream,
            starts_at=command.to_starts_at,
            initiated_by=command.initiated_by,
            reason=command.reason,
            moved_at=command.now,
        )
    ]
