"""Europe/London wall clock to UTC and back; a day's slots and windows; times in words.

Times are stored as UTC instants. A wall-clock time is converted only when it
names exactly one instant: at the spring clock change 1:30am does not exist, at
the autumn one it happens twice, and guessing would book someone at the wrong time.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.errors import ClockChange

# The domain words its refusals the way London reads times; one implementation for all.
from services.common.london import spoken_clock
from services.common.london import spoken_day as spoken_day
from services.common.london import spoken_span as spoken_span
from services.common.reference import DiaryCar, Station, weekday_of

LONDON = ZoneInfo("Europe/London")


# Pure and asked for the same few wall-clock times of the same days again and again (every
# free-slots answer, every booking): zoneinfo arithmetic was a large share of booking's CPU.
@functools.lru_cache(maxsize=16384)
def to_utc(day: date, at: time, field: str = "start") -> datetime:
    """The UTC instant of a London wall-clock time; ClockChange when it is not exactly one."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=LONDON, fold=0)
    second = wall.replace(tzinfo=LONDON, fold=1)
    instant = first.astimezone(UTC)
    # A time in the spring gap does not survive the round trip through UTC.
    if instant.astimezone(LONDON).replace(tzinfo=None) != wall:
        raise ClockChange(
            field,
            f"{spoken_clock(at)} on {spoken_day(day)} does not exist when the clocks go forward: "
            "choose another time",
        )
    # A time in the autumn overlap has two offsets, one per fold.
    if first.utcoffset() != second.utcoffset():
        raise ClockChange(
            field,
            f"{spoken_clock(at)} on {spoken_day(day)} happens twice when the clocks go back: "
            "choose another time",
        )
    return instant


def local_date(instant: datetime) -> date:
    """The Europe/London date of an instant."""
    return instant.astimezone(LONDON).date()


def local_time(instant: datetime) -> time:
    """The Europe/London wall-clock time of an instant."""
    return instant.astimezone(LONDON).time()


@functools.lru_cache(maxsize=4096)
def openings(place: Station | DiaryCar, day: date) -> tuple[tuple[time, time], ...]:
    """The local (start, end) of each slot or window a place offers on a weekday."""
    if isinstance(place, DiaryCar):
        if weekday_of(day) not in place.days:
            return ()
        return tuple((w.start, w.end) for w in place.windows)
    hours = place.hours_on(day)
    if hours is None:
        return ()
    length = timedelta(minutes=hours.slot_minutes)
    return tuple((start, (datetime.combine(day, start) + length).time()) for start in hours.slot_starts())
