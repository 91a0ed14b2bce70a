"""Words a text may use: times as UK public services write them, and reasons that say nothing of the case.

Texts can be read by someone else holding the phone, so a reason is never the free text a
call taker typed: it is one of a few fixed phrases chosen from what kind of change it was.
"""

from __future__ import annotations

from datetime import datetime

from services.common.london import local, spoken_day, spoken_range, spoken_time

# The longest a spoken time ("12:30pm", "midnight") and a day ("Wednesday 30 September 2026") get.
TIME_MAX = 8
DAY_MAX = 27
RANGE_MAX = 2 * TIME_MAX + 4

REASONS = {
    "officer": "the officer due to see you is no longer available",
    "station": "the station cannot open at that time",
    "other": "we cannot keep the original time",
}
REASON_MAX = max(len(r) for r in REASONS.values())


def time_of(instant: datetime) -> str:
    """'5pm', '5:30pm', 'midday', London time."""
    return spoken_time(instant)


def day_of(instant: datetime) -> str:
    """'Tuesday 2 December 2026', London's date of the instant."""
    return spoken_day(local(instant).date())


def window_of(starts_at: datetime, ends_at: datetime) -> str:
    """'5pm to 8pm', London time."""
    return spoken_range(starts_at, ends_at)


# Booking's reason codes about the officer that do not say "officer" (the others read as their words).
_OFFICER_CODES = frozenset({"duty-ended-early"})


def plain_reason(booking_reason: str) -> str:
    """Why the police moved or cancelled an appointment, in words safe for anyone to read."""
    said = booking_reason.lower()
    if "officer" in said or said in _OFFICER_CODES:
        return REASONS["officer"]
    if "station" in said:
        return REASONS["station"]
    return REASONS["other"]
