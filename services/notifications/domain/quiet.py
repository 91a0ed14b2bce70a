"""Quiet hours: no text to the public between, by default, 9pm and 8am London time.

Worked on the London wall clock, so the clock changes in March and October move the
quiet hours with the clock, not with UTC. A quiet edge that falls in the hour the clock
skips (spring) is the first minute after the gap; one that happens twice (autumn) is the
first time it happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.common.london import LONDON


def wall_instant(day: date, at: time) -> datetime:
    """The first UTC instant at which London's clock on ``day`` reads ``at`` or later."""
    first = datetime.combine(day, at, LONDON).replace(fold=0)
    # The earlier of the two readings: in the hour the clock repeats (autumn) fold=0 is the
    # first time it happens; in the hour it skips (spring) fold=1 lands before the gap, and
    # stepping on from there finds its first minute after it.
    candidate = min(first.astimezone(UTC), first.replace(fold=1).astimezone(UTC))
    for _ in range(180):
        seen = candidate.astimezone(LONDON)
        if seen.date() > day or (seen.date() == day and seen.time() >= at):
            return candidate
        candidate += timedelta(minutes=1)
    return first.astimezone(UTC)


@dataclass(frozen=True)
class QuietHours:
    """From ``starts`` (evening) to ``ends`` (morning), London time; equal times mean never quiet."""

    starts: time = time(21, 0)
    ends: time = time(8, 0)

    def is_quiet(self, instant: datetime) -> bool:
        """Whether London's clock at ``instant`` is within the quiet hours."""
        if self.starts == self.ends:
            return False
        clock = instant.astimezone(LONDON).time()
        if self.starts > self.ends:  # across midnight
            return clock >= self.starts or clock < self.ends
        return self.starts <= clock < self.ends

    def next_allowed(self, instant: datetime) -> datetime:
        """``instant``, or when its quiet hours end if it falls in them."""
        if not self.is_quiet(instant):
            return instant
        day = instant.astimezone(LONDON).date()
        if self.starts > self.ends and instant.astimezone(LONDON).time() >= self.starts:
            day += timedelta(days=1)
        return wall_instant(day, self.ends)

    def last_allowed_before(self, instant: datetime) -> datetime:
        """The last minute before the quiet hours that hold ``instant`` began (``instant`` if not quiet)."""
        if not self.is_quiet(instant):
            return instant
        day = instant.astimezone(LONDON).date()
        if self.starts > self.ends and instant.astimezone(LONDON).time() < self.ends:
            day -= timedelta(days=1)
        return wall_instant(day, self.starts) - timedelta(minutes=1)

    def place(self, due: datetime, before: datetime) -> datetime | None:
        """When to send a text due at ``due`` that is pointless from ``before`` on: out of quiet hours.

        Pushed to the end of the quiet hours when that is still in time, else pulled back to
        just before they began; None when neither is before ``before``.
        """
        later = self.next_allowed(due)
        if later < before:
            return later
        earlier = self.last_allowed_before(due)
        return earlier if earlier < before else None
