"""The diary-day decider: initial state, decide, evolve.

``decide`` is pure: no clock, no ids, no I/O, no files (the county comes in with the
initial state); it returns the new events (none when the command is already satisfied)
or raises a ``BookingRefused``. ``evolve`` only copies the state with the event's
change, and handles every ``DiaryDayEvent`` (mypy checks it does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import assert_never

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentDisplaced,
    AppointmentMissed,
    AppointmentMovedOut,
    AppointmentOffered,
    AppointmentReassigned,
    AppointmentRescheduled,
    DiaryCarVisitBooked,
    OfferLapsed,
    SlotBooked,
)
from services.booking.domain import booking, changes, outcomes, withdrawal
from services.booking.domain.commands import (
    BookDiaryCarVisit,
    BookStationSlot,
    CancelAppointment,
    Command,
    CoverWithdrawal,
    LapseOffer,
    MoveAppointmentIn,
    MoveAppointmentOut,
    OfferFreedSlot,
    RecordAttendance,
    RecordNoShow,
    RescheduleAppointment,
)
from services.booking.domain.errors import Refusal
from services.booking.domain.state import Appointment, Diary, DiaryDay, Status
from services.booking.domain.state import DiaryDayEvent as DiaryDayEvent
from services.common.reference import County, bank_holiday


def initial_state(diary: Diary, county: County) -> DiaryDay:
    """An empty day of a station or diary car, with the county's reference data in force."""
    try:
        if diary.place == "diary-car":
            district = county.district(diary.place_id)
            return DiaryDay(diary, district.diary_car, district, bank_holiday(diary.day))
        station = county.station(diary.place_id)
    except LookupError as missing:
        raise Refusal("place_id", str(missing)) from None
    if not station.offers_appointments:
        raise Refusal("station_id", f"{station.name} station has no appointment room")
    district = county.district(station.district)
    return DiaryDay(diary, station, district, bank_holiday(diary.day))


def event_of(event: DomainEvent) -> DiaryDayEvent:
    """This stream's event, narrowed; TypeError for an event that does not belong to it."""
    if isinstance(event, DiaryDayEvent):
        return event
    raise TypeError(f"{event.event_type} is not an event of a diary day")


def decide(command: Command, state: DiaryDay) -> list[DiaryDayEvent]:
    """The events a command causes on a diary day; raises BookingRefused when refused."""
    match command:
        case BookStationSlot():
            return booking.book_station_slot(command, state)
        case BookDiaryCarVisit():
            return booking.book_diary_car_visit(command, state)
        case OfferFreedSlot():
            return booking.offer_freed_slot(command, state)
        case RescheduleAppointment():
            return changes.reschedule(command, state)
        case MoveAppointmentIn():
            return changes.move_in(command, state)
        case MoveAppointmentOut():
            return changes.move_out(command, state)
        case CancelAppointment():
            return outcomes.cancel(command, state)
        case RecordAttendance():
            return outcomes.record_attendance(command, state)
        case RecordNoShow():
            return outcomes.record_no_show(command, state)
        case LapseOffer():
            return outcomes.lapse_offer(command, state)
        case CoverWithdrawal():
            return withdrawal.cover(command, state, evolve)
        case _:
            assert_never(command)


def _put(state: DiaryDay, appointment: Appointment) -> DiaryDay:
    kept = tuple(a for a in state.appointments if a.appointment_id != appointment.appointment_id)
    return replace(state, appointments=(*kept, appointment))


def _set(state: DiaryDay, appointment_id: str, status: Status) -> DiaryDay:
    found = state.find(appointment_id)
    return state if found is None else _put(state, replace(found, status=status))


def evolve(state: DiaryDay, event: DiaryDayEvent) -> DiaryDay:
    """The day after one of its events."""
    match event:
        case SlotBooked():
            return _put(
                state,
                Appointment(
                    event.appointment_id,
                    event.starts_at,
                    event.ends_at,
                    event.room_id,
                    event.officer_id,
                    "booked",
                    event.request_id,
                    subject_id=event.caller.subject_id,
                ),
            )
        case DiaryCarVisitBooked():
            return _put(
                state,
                Appointment(
                    event.appointment_id,
                    event.window_starts_at,
                    event.window_ends_at,
                    None,
                    event.officer_id,
                    "booked",
                    event.request_id,
                    subject_id=event.caller.subject_id,
                ),
            )
        case AppointmentOffered():
            return _put(
                state,
                Appointment(
                    event.appointment_id,
                    event.slot.starts_at,
                    event.slot.ends_at,
                    event.slot.room_id,
                    event.officer_id,
                    "offered",
                    offer_expires_at=event.expires_at,
                ),
            )
        case AppointmentRescheduled():
            found = state.find(event.appointment_id)
            moved = Appointment(
                event.appointment_id,
                event.starts_at,
                event.ends_at,
                event.room_id,
                event.officer_id,
                "booked",
                found.request_id if found else None,
                subject_id=event.subject_id or (found.subject_id if found else None),
            )
            return _put(state, moved)
        case AppointmentReassigned():
            found = state.find(event.appointment_id)
            if found is None:
                return state
            return _put(state, replace(found, officer_id=event.to_officer_id))
        case AppointmentDisplaced():
            return _set(state, event.appointment_id, "displaced")
        case AppointmentMovedOut():
            return _set(state, event.appointment_id, "moved-out")
        case AppointmentCancelled():
            return _set(state, event.appointment_id, "cancelled")
        case AppointmentAttended():
            return _set(state, event.appointment_id, "attended")
        case AppointmentMissed():
            return _set(state, event.appointment_id, "missed")
        case OfferLapsed():
            return _set(state, event.appointment_id, "lapsed")
        case _:
            assert_never(event)


def fold(state: DiaryDay, events: Iterable[DomainEvent]) -> DiaryDay:
    """The day after all these events (as stored or as just decided), in order."""
    for event in events:
        state = evolve(state, event_of(event))
    return state
