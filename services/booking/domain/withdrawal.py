"""Keeping booked times when an officer is withdrawn or their duty ends early.

For each of the officer's appointments in the withdrawn span that has not begun,
in time order: another officer on duty and free then takes it (time unchanged);
else it moves to the day's earliest free slot and the caller is to be told; else
it is displaced, and the handler moves it to the earliest free slot on a later day
(MoveAppointmentIn there, then MoveAppointmentOut here). Delivered twice, the
withdrawal finds nothing left to cover and yields no events.
"""

from __future__ import annotations

from collections.abc import Callable

from schemas.booking import (
    AppointmentDisplaced,
    AppointmentReassigned,
    AppointmentRescheduled,
    OfferLapsed,
)
from services.booking.domain.capacity import allocate, free_officer, free_slots
from services.booking.domain.commands import CoverWithdrawal, OfficerOnDuty
from services.booking.domain.state import Appointment, DiaryDay, DiaryDayEvent

Evolve = Callable[[DiaryDay, DiaryDayEvent], DiaryDay]


def _remaining(command: CoverWithdrawal) -> tuple[OfficerOnDuty, ...]:
    # The roster given should already be net of the withdrawal; never trust the
    # withdrawn officer inside the withdrawn span all the same.
    return tuple(
        d
        for d in command.on_duty
        if d.officer_id != command.officer_id
        or d.ends_at <= command.starts_at
        or command.ends_at <= d.starts_at
    )


def affected(command: CoverWithdrawal, state: DiaryDay) -> list[Appointment]:
    """The withdrawn officer's appointments in the span that have not begun, in time order."""
    return sorted(
        (
            a
            for a in state.holding()
            if a.status in ("booked", "offered")
            and a.officer_id == command.officer_id
            and a.overlaps(command.starts_at, command.ends_at)
            and a.starts_at > command.now
        ),
        key=lambda a: (a.starts_at, a.appointment_id),
    )


def _cover_one(command: CoverWithdrawal, state: DiaryDay, appointment: Appointment) -> DiaryDayEvent:
    on_duty, now, stream = _remaining(command), command.now, state.diary.stream_id
    ident = appointment.appointment_id
    officer = free_officer(state, on_duty, appointment.starts_at, appointment.ends_at, ident)
    if officer is not None:
        return AppointmentReassigned(
            appointment_id=ident,
            diary=stream,
            from_officer_id=appointment.officer_id,
            to_officer_id=officer,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            withdrawal_id=command.withdrawal_id,
            reason=command.reason,
            reassigned_at=now,
        )
    if appointment.status == "offered":
        # An offer nobody can staff is withdrawn; the caller keeps their place on the waitlist.
        return OfferLapsed(appointment_id=ident, diary=stream, starts_at=appointment.starts_at, lapsed_at=now)
    for slot in free_slots(state, now, on_duty, moving=ident):
        got = allocate(state, slot.starts_at, slot.ends_at, on_duty, moving=ident)
        assert got is not None
        return AppointmentRescheduled(
            appointment_id=ident,
            diary=stream,
            from_diary=stream,
            from_starts_at=appointment.starts_at,
            from_ends_at=appointment.ends_at,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            room_id=got.room_id,
            officer_id=got.officer_id,
            initiated_by="police",
            reason=command.reason,
            caller_to_be_told=True,
            rescheduled_at=now,
            subject_id=appointment.subject_id,
            withdrawal_id=command.withdrawal_id,
        )
    return AppointmentDisplaced(
        appointment_id=ident,
        diary=stream,
        officer_id=command.officer_id,
        starts_at=appointment.starts_at,
        withdrawal_id=command.withdrawal_id,
        reason=command.reason,
        displaced_at=now,
    )


def cover(command: CoverWithdrawal, state: DiaryDay, evolve: Evolve) -> list[DiaryDayEvent]:
    """Reassign, else reschedule within the day, else displace each affected appointment."""
    events: list[DiaryDayEvent] = []
    for appointment in affected(command, state):
        # Each decision sees the ones before it, so two appointments never get one officer.
        event = _cover_one(command, state, appointment)
        events.append(event)
        state = evolve(state, event)
    return events
