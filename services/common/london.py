"""Times as the public sector writes them, in Europe/London: "5pm", "5:30pm", "Tuesday 14 June 2026"."""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def local(instant: datetime) -> datetime:
    """A UTC instant as a Europe/London wall-clock time."""
    return instant.astimezone(LONDON)


def spoken_clock(at: time) -> str:
    """A wall-clock time the UK public-sector way: '5pm', '5:30pm', 'midday', 'midnight'."""
    if at.minute == 0 and at.hour in (0, 12):
        return "midnight" if at.hour == 0 else "midday"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def spoken_time(instant: datetime) -> str:
    """An instant as London reads it: '5pm', '5:30pm', 'midday', 'midnight'."""
    return spoken_clock(local(instant).time())


def spoken_moment(instant: datetime) -> str:
    """'5:30pm on Tuesday 14 June 2026', London time."""
    return f"{spoken_time(instant)} on {spoken_day(local(instant).date())}"


@functools.lru_cache(maxsize=4096)
def spoken_day(day: date) -> str:
    """'Tuesday 14 June 2026'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def spoken_span(start: time, end: time) -> str:
    """A span of wall-clock time: '5pm to 8pm'."""
    return f"{spoken_clock(start)} to {spoken_clock(end)}"


def spoken_range(starts_at: datetime, ends_at: datetime) -> str:
    """'5pm to 6pm'."""
    return f"{spoken_time(starts_at)} to {spoken_time(ends_at)}"
