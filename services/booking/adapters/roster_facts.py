"""Booking's reading of roster.events: who gives appointment capacity at each place and time.

Pure helpers shared by the PostgreSQL and in-memory views: the duties and withdrawals
they read become, for each diary day, the officers on duty net of withdrawals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from services.booking.domain.calendar import local_date, to_utc
from services.booking.domain.commands import OfficerOnDuty
from services.booking.domain.state import Diary

CAPACITY_DUTIES = ("appointments", "diary-car")


class DutySpan(NamedTuple):
    """A capacity duty as booking knows it."""

    officer_id: str
    starts_at: datetime
    ends_at: datetime


class Withdrawn(NamedTuple):
    """A span an officer is withdrawn from appointment duty."""

    officer_id: str
    starts_at: datetime
    ends_at: datetime


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC span of a Europe/London calendar day (23 or 25 hours at a clock change)."""
    return to_utc(day, time(0), field="day"), to_utc(day + timedelta(days=1), time(0), field="day")


def net_of(
    span: tuple[datetime, datetime], withdrawn: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """What is left of a duty span once the withdrawn spans are cut out of it."""
    pieces = [span]
    for w_start, w_end in sorted(withdrawn):
        kept: list[tuple[datetime, datetime]] = []
        for start, end in pieces:
            if w_end <= start or end <= w_start:
                kept.append((start, end))
                continue
            if start < w_start:
                kept.append((start, w_start))
            if w_end < end:
                kept.append((w_end, end))
        pieces = kept
    return pieces


def _overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def on_duty_for(
    bounds: tuple[datetime, datetime], duties: Sequence[DutySpan], withdrawn: Sequence[Withdrawn]
) -> tuple[OfficerOnDuty, ...]:
    """The officers on duty during one day's bounds, each span net of that day's withdrawals."""
    spans = []
    for duty in duties:
        if not _overlaps((duty.starts_at, duty.ends_at), bounds):
            continue
        mine = [
            (w.starts_at, w.ends_at)
            for w in withdrawn
            if w.officer_id == duty.officer_id and _overlaps((w.starts_at, w.ends_at), bounds)
        ]
        for start, end in net_of((duty.starts_at, duty.ends_at), mine):
            spans.append(OfficerOnDuty(officer_id=duty.officer_id, starts_at=start, ends_at=end))
    return tuple(sorted(spans, key=lambda s: (s.starts_at, s.officer_id)))


def on_duty_by_day(
    duties: Sequence[DutySpan], withdrawn: Sequence[Withdrawn], first: date, last: date
) -> dict[date, tuple[OfficerOnDuty, ...]]:
    """For every London day from ``first`` to ``last``: the officers on duty, net of withdrawals."""
    days: dict[date, tuple[OfficerOnDuty, ...]] = {}
    day = first
    while day <= last:
        days[day] = on_duty_for(day_bounds(day), duties, withdrawn)
        day += timedelta(days=1)
    return days


def places_touched(rows: Iterable[tuple[str, str | None, str, datetime, datetime]]) -> list[Diary]:
    """The diary days that capacity duties (duty, station, district, from, to) touch."""
    diaries: set[Diary] = set()
    for duty, station_id, district_id, starts, ends in rows:
        place_id = station_id if duty == "appointments" and station_id else district_id
        day = local_date(starts)
        while True:
            diaries.add(Diary("station" if duty == "appointments" else "diary-car", place_id, day))
            day += timedelta(days=1)
            if day_bounds(day)[0] >= ends:
                break
    return sorted(diaries, key=lambda d: (d.day, d.place, d.place_id))
