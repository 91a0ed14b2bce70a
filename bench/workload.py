"""What gets booked: real free station slots, and the duties that give them capacity.

Every booking of one run takes its own free slot, so none is refused, and the
slots are ordered so that bookings in flight together fall on different diary
days (different event-store streams) and never race each other. A slot gives
capacity only with an officer on appointment duty, so the run also puts one
officer per station on duty for each planned day, through roster.events as the
roster service would. The forms and the events they make are in ``bench.forms``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from schemas.envelope import source_of
from schemas.roster import DutyAssigned
from services.booking.domain import decider
from services.booking.domain.calendar import local_date, local_time
from services.booking.domain.capacity import free_slots
from services.booking.domain.commands import OfficerOnDuty
from services.booking.domain.state import Diary
from services.common.commands import Metadata, outgoing
from services.common.eventstore import Outgoing
from services.common.reference import County, load_county

# Far enough ahead for any --count: the county offers a few dozen station slots a day.
MAX_DAYS_AHEAD = 3 * 365


@dataclass(frozen=True)
class PlannedSlot:
    """One free station slot: where, which London day, and its local start time."""

    station_id: str
    day: date
    start: time
    starts_at: datetime
    ends_at: datetime

    @property
    def stream_id(self) -> str:
        """The diary-day stream a booking of this slot appends to."""
        return Diary("station", self.station_id, self.day).stream_id


def plan_slots(count: int, now: datetime, county: County | None = None) -> list[PlannedSlot]:
    """``count`` distinct free station slots from tomorrow on, neighbours on different diary days.

    Computed with the booking domain's own ``free_slots`` on empty days without
    consulting the roster: what a run's fresh database offers once ``duties`` are in.
    """
    county = county or load_county()
    stations = county.appointment_stations()
    by_stream: list[list[PlannedSlot]] = []
    total = 0
    # Tomorrow, so no slot can begin (and turn into a refusal) while the run lasts.
    day = local_date(now) + timedelta(days=1)
    last = day + timedelta(days=MAX_DAYS_AHEAD)
    while total < count:
        if day > last:
            raise ValueError(f"fewer than {count} free station slots in {MAX_DAYS_AHEAD} days")
        for station in stations:
            slots = day_slots(station.id, day, now, county)
            if slots:
                by_stream.append(slots)
                total += len(slots)
        day += timedelta(days=1)
    return interleave(by_stream)[:count]


def day_slots(station_id: str, day: date, now: datetime, county: County | None = None) -> list[PlannedSlot]:
    """Every slot of one station's day that an empty diary with an officer on duty offers."""
    county = county or load_county()
    state = decider.initial_state(Diary("station", station_id, day), county)
    return [
        PlannedSlot(station_id, day, local_time(s.starts_at), s.starts_at, s.ends_at)
        for s in free_slots(state, now)
    ]


def station_days(station_id: str, first: date, days: int, now: datetime) -> list[PlannedSlot]:
    """Every slot of ``days`` consecutive days at one station: put on duty, they are all offered."""
    return [s for n in range(days) for s in day_slots(station_id, first + timedelta(days=n), now)]


def interleave(groups: list[list[PlannedSlot]]) -> list[PlannedSlot]:
    """Round-robin over the groups: the first of each, then the second of each, and so on."""
    longest = max((len(g) for g in groups), default=0)
    return [g[i] for i in range(longest) for g in groups if i < len(g)]


@dataclass(frozen=True)
class Duty:
    """One officer on appointment duty at a station for a planned day's slots."""

    duty_id: str
    officer_id: str
    station_id: str
    district_id: str
    starts_at: datetime
    ends_at: datetime

    def on_duty(self) -> tuple[OfficerOnDuty, ...]:
        """The roster fact a booking command on this day carries."""
        return (OfficerOnDuty(officer_id=self.officer_id, starts_at=self.starts_at, ends_at=self.ends_at),)


def duties(plan: Sequence[PlannedSlot], run_id: str, county: County | None = None) -> dict[str, Duty]:
    """A duty per planned diary day, from its first slot's start to its last slot's end, by stream id."""
    county = county or load_county()
    spans: dict[str, tuple[PlannedSlot, datetime, datetime]] = {}
    for slot in plan:
        _, first, last = spans.get(slot.stream_id, (slot, slot.starts_at, slot.ends_at))
        spans[slot.stream_id] = (slot, min(first, slot.starts_at), max(last, slot.ends_at))
    return {
        stream: Duty(
            duty_id=f"bench-{run_id}-{stream}",
            # One officer per station, on duty there each planned day.
            officer_id=f"bench-{run_id}-{slot.station_id}",
            station_id=slot.station_id,
            district_id=county.station(slot.station_id).district,
            starts_at=first,
            ends_at=last,
        )
        for stream, (slot, first, last) in spans.items()
    }


def duty_assigned(duty: Duty, now: datetime) -> Outgoing:
    """The DutyAssigned envelope the roster service would publish for ``duty``."""
    event = DutyAssigned(
        officer_id=duty.officer_id,
        duty_id=duty.duty_id,
        duty="appointments",
        station_id=duty.station_id,
        district_id=duty.district_id,
        starts_at=duty.starts_at,
        ends_at=duty.ends_at,
        assigned_at=now,
    )
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor="supervisor:bench", now=now.astimezone(UTC))
    return outgoing(event, f"officer:{duty.officer_id}", source_of("roster"), meta)
