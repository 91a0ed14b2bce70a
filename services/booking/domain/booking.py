"""Deciding a booking: a station slot, a diary-car window, or a slot held for a waiting caller."""

from __future__ import annotations

from datetime import date, datetime

from schemas.booking import AppointmentOffered, DiaryCarVisitBooked, Place, Slot, SlotBooked
from services.booking.domain.calendar import local_time, spoken_day
from services.booking.domain.capacity import (
    Allocation,
    allocate,
    free_slots,
    has_place,
    nearest_alternatives,
)
from services.booking.domain.commands import (
    BookDiaryCarVisit,
    BookStationSlot,
    OfferFreedSlot,
    OnDuty,
)
from services.booking.domain.errors import Refusal, SlotTaken, WrongStatus
from services.booking.domain.rules import check_day, check_future, check_grade, resolve_time
from services.booking.domain.state import DiaryDay, DiaryDayEvent
from services.common.london import spoken_clock as spoken_time
from services.common.reference import DiaryCar

ALTERNATIVES = 3


def check_diary(state: DiaryDay, place: Place, place_id: str, day: date) -> None:
    """Refuse a command meant for another diary day (a handler loaded the wrong stream)."""
    diary = state.diary
    if (diary.place, diary.place_id, diary.day) != (place, place_id, day):
        raise Refusal("day", f"this command is for {place}:{place_id}:{day}, not {diary.stream_id}")


def already_booked(state: DiaryDay, appointment_id: str, starts_at: datetime) -> bool:
    """True when this very booking is already on the day; refused when the id means another."""
    existing = state.find(appointment_id)
    if existing is None or existing.status == "offered":
        return False
    if existing.status == "booked" and existing.starts_at == starts_at:
        return True
    raise WrongStatus(
        "appointment_id",
        f"appointment {appointment_id} is already on this day ({existing.status}, "
        f"{spoken_time(local_time(existing.starts_at))}): reschedule it, or book with a new id",
    )


def claim(
    state: DiaryDay,
    starts_at: datetime,
    ends_at: datetime,
    on_duty: OnDuty,
    now: datetime,
    moving: str | None = None,
    prefer: str | None = None,
) -> Allocation:
    """A room and officer for the span; SlotTaken with the nearest free slots when none."""
    allocation = allocate(state, starts_at, ends_at, on_duty, moving, prefer)
    if allocation is not None:
        return allocation
    free = free_slots(state, now, on_duty, moving)
    when = f"{spoken_time(local_time(starts_at))} on {spoken_day(state.diary.day)}"
    room_free, _ = has_place(state, starts_at, ends_at, moving)
    reason = (
        f"no officer on appointment duty is free at {when}"
        if room_free
        else f"{state.place_name} is fully booked at {when}"
    )
    raise SlotTaken(reason, nearest_alternatives(starts_at, free, ALTERNATIVES))


def _place(
    command: BookStationSlot | BookDiaryCarVisit, state: DiaryDay
) -> tuple[datetime, datetime, Allocation] | None:
    """The checks every booking passes, then its room (or place) and officer; None if already booked."""
    check_day(state)
    starts_at, ends_at = resolve_time(state, command.start)
    if already_booked(state, command.appointment_id, starts_at):
        return None
    check_future(starts_at, command.now)
    got = claim(state, starts_at, ends_at, command.on_duty, command.now, command.appointment_id)
    return starts_at, ends_at, got


def book_station_slot(command: BookStationSlot, state: DiaryDay) -> list[DiaryDayEvent]:
    """A station slot: the checks, then a free room and officer."""
    check_diary(state, "station", command.station_id, command.day)
    check_grade(command.incident_grade)
    placed = _place(command, state)
    if placed is None:
        return []
    starts_at, ends_at, got = placed
    assert got.room_id is not None  # a station always allocates a room
    return [
        SlotBooked(
            appointment_id=command.appointment_id,
            diary=state.diary.stream_id,
            request_id=command.request_id,
            station_id=command.station_id,
            district_id=state.district.id,
            room_id=got.room_id,
            officer_id=got.officer_id,
            starts_at=starts_at,
            ends_at=ends_at,
            caller=command.caller,
            briefing=command.briefing,
            booked_at=command.now,
        )
    ]


def book_diary_car_visit(command: BookDiaryCarVisit, state: DiaryDay) -> list[DiaryDayEvent]:
    """A home visit in a diary-car window: the checks, then a place and an officer."""
    check_diary(state, "diary-car", command.district_id, command.day)
    check_grade(command.incident_grade)
    if command.caller.address is None:
        raise Refusal("caller.address", "a home visit needs the caller's address")
    placed = _place(command, state)
    if placed is None:
        return []
    starts_at, ends_at, got = placed
    assert isinstance(state.place, DiaryCar)
    return [
        DiaryCarVisitBooked(
            appointment_id=command.appointment_id,
            diary=state.diary.stream_id,
            request_id=command.request_id,
            district_id=command.district_id,
            diary_car_id=state.place.id,
            officer_id=got.officer_id,
            window_starts_at=starts_at,
            window_ends_at=ends_at,
            caller=command.caller,
            briefing=command.briefing,
            booked_at=command.now,
        )
    ]


def offer_freed_slot(command: OfferFreedSlot, state: DiaryDay) -> list[DiaryDayEvent]:
    """Hold a free slot for a waiting caller until the offer lapses."""
    check_day(state)
    starts_at, ends_at = resolve_time(state, command.start)
    existing = state.find(command.appointment_id)
    if existing is not None:
        if existing.status == "offered" and existing.starts_at == starts_at:
            return []
        raise WrongStatus("appointment_id", f"appointment {command.appointment_id} is {existing.status}")
    check_future(starts_at, command.now)
    if command.expires_at <= command.now:
        raise Refusal("expires_at", "an offer must stand for some time")
    got = claim(state, starts_at, ends_at, command.on_duty, command.now)
    slot = Slot(
        place=state.diary.place,
        place_id=state.diary.place_id,
        starts_at=starts_at,
        ends_at=ends_at,
        room_id=got.room_id,
    )
    return [
        AppointmentOffered(
            appointment_id=command.appointment_id,
            diary=state.diary.stream_id,
            slot=slot,
            officer_id=got.officer_id,
            expires_at=command.expires_at,
            offered_at=command.now,
        )
    ]
