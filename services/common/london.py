"""Times as the public sector writes them, in Europe/London: "5pm", "5:30pm", "Tuesday 14 June 2026"."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def local(instant: datetime) -> datetime:
    """A UTC instant as a Europe/London wall-clock time."""
    return instant.astimezone(LONDON)


def spoken_time(instant: datetime) -> str:
    """'5pm', '5:30pm', 'midday', 'midnight' (GOV.UK style) in London time."""
    t = local(instant)
    if t.hour == 12 and t.minute == 0:
        return "midday"
    if t.hour == 0 and t.minute == 0:
        return "midnight"
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    return f"{hour}{suffix}" if t.minute == 0 else f"{hour}:{t.minute:02d}{suffix}"


def spoken_day(day: date) -> str:
    """'Tuesday 14 June 2026'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def spoken_range(starts_at: datetime, ends_at: datetime) -> str:
    """'5pm to 6pm'."""
    return f"{spoken_time(starts_at)} to {spoken_time(ends_at)}"
