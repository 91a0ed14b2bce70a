"""Closing a booked appointment: cancelled, attended, missed; and a held offer lapsing."""

from __future__ import annotations

from datetime import datetime

from schemas.booking import AppointmentAttended, AppointmentCancelled, AppointmentMissed, OfferLapsed
from services.booking.domain.calendar import local_time
from services.booking.domain.changes import MOVABLE, appointment
from services.booking.domain.commands import CancelAppointment, LapseOffer, RecordAttendance, RecordNoShow
from services.booking.domain.errors import Refusal, UnknownAppointment
from services.booking.domain.state import Appointment, DiaryDay, DiaryDayEvent
from services.common.london import spoken_clock as spoken_time


def _has_begun(appointment: Appointment, now: datetime) -> None:
    if now < appointment.starts_at:
        raise Refusal(
            "now",
            f"the appointment begins at {spoken_time(local_time(appointment.starts_at))}: "
            "record what happened once it has begun",
        )


def cancel(command: CancelAppointment, state: DiaryDay) -> list[DiaryDayEvent]:
    """Cancel an appointment not yet attended or missed."""
    found = appointment(state, command.appointment_id, MOVABLE | {"offered", "cancelled"})
    if found.status == "cancelled":
        return []
    return [
        AppointmentCancelled(
            appointment_id=found.appointment_id,
            diary=state.diary.stream_id,
            starts_at=found.starts_at,
            initiated_by=command.initiated_by,
            reason=command.reason,
            note=command.note,
            cancelled_at=command.now,
        )
    ]


def record_attendance(command: RecordAttendance, state: DiaryDay) -> list[DiaryDayEvent]:
    """The meeting happened: record its outcome."""
    found = appointment(state, command.appointment_id, frozenset({"booked", "attended"}))
    if found.status == "attended":
        return []
    _has_begun(found, command.now)
    return [
        AppointmentAttended(
            appointment_id=found.appointment_id,
            diary=state.diary.stream_id,
            officer_id=command.officer_id or found.officer_id,
            starts_at=found.starts_at,
            outcome=command.outcome,
            notes=command.notes,
            recorded_at=command.now,
        )
    ]


def record_no_show(command: RecordNoShow, state: DiaryDay) -> list[DiaryDayEvent]:
    """The meeting did not happen: say whose absence it was."""
    found = appointment(state, command.appointment_id, frozenset({"booked", "missed"}))
    if found.status == "missed":
        return []
    _has_begun(found, command.now)
    return [
        AppointmentMissed(
            appointment_id=found.appointment_id,
            diary=state.diary.stream_id,
            starts_at=found.starts_at,
            missed_by=command.missed_by,
            reason=command.reason,
            note=command.note,
            recorded_at=command.now,
        )
    ]


def lapse_offer(command: LapseOffer, state: DiaryDay) -> list[DiaryDayEvent]:
    """Free a held slot once its offer has expired; nothing when it was taken or already freed."""
    found = state.find(command.appointment_id)
    if found is None:
        raise UnknownAppointment(command.appointment_id)
    if found.status != "offered":
        return []
    assert found.offer_expires_at is not None
    if command.now < found.offer_expires_at:
        raise Refusal("now", "the offer still stands")
    return [
        OfferLapsed(
            appointment_id=found.appointment_id,
            diary=state.diary.stream_id,
            starts_at=found.starts_at,
            lapsed_at=command.now,
        )
    ]
