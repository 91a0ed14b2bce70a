"""Availability: free capacity per station and diary car, per day and slot, and the earliest free slot.

Booking publishes no capacity it offers, so the read side works it out from what the topics
say: the county's rooms, hours and diary cars (the latest ``CountyReferenceLoaded``), who the
roster has on appointment or diary-car duty (``DutyAssigned``, net of ``OfficerWithdrawn`` and
of duties ``DutyEnded`` early) and what is booked (the diary). What is free is then decided by
**booking's own pure rule**, not a copy of it: each day is booking's ``DiaryDay`` (its
``decider.initial_state`` from the county, with the diary's appointments that hold a room and
an officer), the officers on duty are booking's ``roster_facts.on_duty_for``, and a slot's free
capacity is how many appointments booking's ``capacity.allocate`` would still place in it one
after another (a slot booking's ``free_slots`` offers has at least one; one it does not, none).

The figure is **eventually consistent** with booking's: it is what booking would answer once
the projections have applied the same events (booking decides on its own store, the
projections follow the topics a moment later), never a promise that a slot can be booked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from services.booking.adapters.roster_facts import (
    CAPACITY_DUTIES,
    DutySpan,
    Withdrawn,
    day_bounds,
    on_duty_for,
)
from services.booking.domain.calendar import openings, to_utc
from services.booking.domain.capacity import allocate
from services.booking.domain.commands import OfficerOnDuty
from services.booking.domain.decider import initial_state
from services.booking.domain.errors import ClockChange, Refusal
from services.booking.domain.rules import day_refusal
from services.booking.domain.state import Appointment, Diary, DiaryDay, Status
from services.common.reference import County

# The diary's statuses that hold a room (or diary-car place) and an officer, as booking's.
HOLDING: Mapping[str, Status] = {
    "booked": "booked",
    "rescheduled": "booked",
    "offered": "offered",
    "attended": "attended",
    "missed-by-public": "missed",
    "missed-by-police": "missed",
}
Place = tuple[str, str]  # ("station" | "diary-car", station id or district id)


@dataclass(frozen=True)
class Duty:
    """A capacity duty as the roster published it (an early end already applied)."""

    duty_id: str
    officer_id: str
    duty: str
    station_id: str | None
    district_id: str
    starts_at: datetime
    ends_at: datetime

    def gives(self, place: Place) -> bool:
        """Whether this duty gives capacity at the place (booking's reading of it)."""
        kind, place_id = place
        if kind == "station":
            return self.duty == "appointments" and self.station_id == place_id
        return self.duty == "diary-car" and self.district_id == place_id


@dataclass(frozen=True)
class Booked:
    """An appointment of the diary, where and when it is, with its room, officer and status."""

    appointment_id: str
    place: str
    place_id: str
    local_day: date
    starts_at: datetime
    ends_at: datetime
    room_id: str | None
    officer_id: str | None
    status: str


@dataclass(frozen=True)
class SlotCapacity:
    """One slot (or diary-car window) of a day and how many more appointments it takes."""

    starts_at: datetime
    ends_at: datetime
    free: int


@dataclass(frozen=True)
class PlaceDay:
    """A station's or a diary car's day: why it takes no appointments, or its slots."""

    place: str
    place_id: str
    name: str
    district_id: str
    day: date
    closed: str | None
    slots: tuple[SlotCapacity, ...]


@dataclass(frozen=True)
class Earliest:
    """The earliest free slot of a district (or of the county: ``district_id`` None), if any."""

    district_id: str | None
    day: PlaceDay | None
    slot: SlotCapacity | None


def is_capacity(duty: str) -> bool:
    """Whether a duty gives appointment capacity (booking keeps only these)."""
    return duty in CAPACITY_DUTIES


def places(county: County, district_id: str | None = None) -> list[tuple[Place, str, str]]:
    """(place, name, district) of every station taking appointments and every diary car, or one district's."""
    found: list[tuple[Place, str, str]] = []
    for district in county.districts:
        if district_id is not None and district.id != district_id:
            continue
        for station in county.stations_in(district.id):
            if station.offers_appointments:
                found.append((("station", station.id), f"{station.name} station", district.id))
        found.append((("diary-car", district.id), district.diary_car.name, district.id))
    return found


def day_state(county: County, place: Place, day: date, booked: Iterable[Booked]) -> DiaryDay:
    """Booking's state of the day: the county's place, with the diary's appointments holding it."""
    state = initial_state(Diary("station" if place[0] == "station" else "diary-car", place[1], day), county)
    held = tuple(
        Appointment(b.appointment_id, b.starts_at, b.ends_at, b.room_id, b.officer_id, HOLDING[b.status])
        for b in booked
        if b.status in HOLDING
    )
    return replace(state, appointments=held)


def free_capacity(
    state: DiaryDay, starts_at: datetime, ends_at: datetime, on_duty: tuple[OfficerOnDuty, ...]
) -> int:
    """How many appointments booking's ``allocate`` would still place in the span, one after another."""
    count = 0
    while (allocation := allocate(state, starts_at, ends_at, on_duty)) is not None:
        placed = Appointment(
            f"free-{count}", starts_at, ends_at, allocation.room_id, allocation.officer_id, "booked"
        )
        state = replace(state, appointments=(*state.appointments, placed))
        count += 1
    return count


def place_day(
    county: County,
    place: Place,
    name: str,
    district_id: str,
    day: date,
    booked: Sequence[Booked],
    duties: Sequence[Duty],
    withdrawn: Sequence[Withdrawn],
    now: datetime,
) -> PlaceDay:
    """A place's day: closed (booking's reason), or each slot still to begin with its free capacity."""
    try:
        state = day_state(county, place, day, booked)
    except Refusal as refused:
        return PlaceDay(place[0], place[1], name, district_id, day, refused.reason, ())
    refusal = day_refusal(state)
    if refusal is not None:
        return PlaceDay(place[0], place[1], name, district_id, day, refusal.reason, ())
    spans = [DutySpan(d.officer_id, d.starts_at, d.ends_at) for d in duties if d.gives(place)]
    on_duty = on_duty_for(day_bounds(day), spans, withdrawn)
    slots: list[SlotCapacity] = []
    for start, end in openings(state.place, day):
        try:
            starts_at, ends_at = to_utc(day, start), to_utc(day, end)
        except ClockChange:
            continue  # booking offers no slot at a time that is not exactly one instant
        if starts_at <= now:
            continue  # begun: booking offers it no more
        slots.append(SlotCapacity(starts_at, ends_at, free_capacity(state, starts_at, ends_at, on_duty)))
    return PlaceDay(place[0], place[1], name, district_id, day, None, tuple(slots))


def availability(
    county: County,
    first: date,
    last: date,
    booked: Sequence[Booked],
    duties: Sequence[Duty],
    withdrawn: Sequence[Withdrawn],
    now: datetime,
    district_id: str | None = None,
) -> list[PlaceDay]:
    """Every place's days from ``first`` to ``last`` (one district's, or the county's), in order."""
    by_day: dict[tuple[str, str, date], list[Booked]] = {}
    for b in booked:
        by_day.setdefault((b.place, b.place_id, b.local_day), []).append(b)
    days: list[PlaceDay] = []
    for place, name, district in places(county, district_id):
        day = first
        while day <= last:
            held = by_day.get((place[0], place[1], day), [])
            days.append(place_day(county, place, name, district, day, held, duties, withdrawn, now))
            day += timedelta(days=1)
    return days


def earliest(days: Iterable[PlaceDay], district_id: str | None = None) -> Earliest:
    """The earliest slot with room for one more, in a district or (None) anywhere; ties by place."""
    best: tuple[PlaceDay, SlotCapacity] | None = None
    for d in days:
        if district_id is not None and d.district_id != district_id:
            continue
        for s in d.slots:
            if s.free and (best is None or (s.starts_at, d.place, d.place_id) < key(best)):
                best = (d, s)
    return Earliest(district_id, *(best or (None, None)))


def earliest_anywhere(
    county: County,
    first: date,
    last: date,
    booked: Sequence[Booked],
    duties: Sequence[Duty],
    withdrawn: Sequence[Withdrawn],
    now: datetime,
) -> Earliest:
    """The county's earliest free slot in the range, a day at a time: no later day is worked out.

    Every slot of a London day starts before any slot of the next, so the first day with one free
    holds the earliest; the same answer as ``earliest`` over the whole range, for less work.
    """
    day = first
    while day <= last:
        found = earliest(availability(county, day, day, booked, duties, withdrawn, now))
        if found.slot is not None:
            return found
        day += timedelta(days=1)
    return Earliest(None, None, None)


def key(found: tuple[PlaceDay, SlotCapacity]) -> tuple[datetime, str, str]:
    """How two free slots are ordered: by time, then place, then id."""
    d, s = found
    return (s.starts_at, d.place, d.place_id)
