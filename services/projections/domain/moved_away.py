"""The appointments moved away from a diary's day, as a pure fold over their events.

The diary's own fold (``diary.apply``), so the moved-away list "as it stood" at an instant
cannot disagree with the diary as it stood then: an appointment that had been on the day and,
after the events up to the instant, is on another day or at another place had moved away. How
it left is the last reschedule that took it off the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas import booking as ev
from schemas.base import DomainEvent
from services.projections.domain.diary import DiaryEntry, apply
from services.projections.domain.diary_days import Day, day_of


@dataclass(frozen=True)
class MovedOff:
    """An appointment once on the day: where it then stood, and the reschedule that took it off."""

    entry: DiaryEntry
    move: ev.AppointmentRescheduled | None


def moved_off(events: Iterable[tuple[str, DomainEvent]], day: Day) -> list[MovedOff]:
    """Fold (appointment id, event) pairs in order; those once on ``day`` and now elsewhere.

    In the order they were on the day (their time there, else where they are now), then by id.
    """
    entries: dict[str, DiaryEntry] = {}
    was_on: set[str] = set()
    left: dict[str, ev.AppointmentRescheduled] = {}
    for appointment_id, event in events:
        before = entries.get(appointment_id)
        after = apply(before, event)
        if after is None:
            continue
        entries[appointment_id] = after
        if day_of(after) == day:
            was_on.add(appointment_id)
        elif isinstance(event, ev.AppointmentRescheduled) and before is not None and day_of(before) == day:
            left[appointment_id] = event  # the last move off this day
    gone = [
        MovedOff(entry, left.get(appointment_id))
        for appointment_id, entry in entries.items()
        if appointment_id in was_on and day_of(entry) != day
    ]
    return sorted(
        gone,
        key=lambda m: (m.move.from_starts_at if m.move else m.entry.starts_at, m.entry.appointment_id),
    )
