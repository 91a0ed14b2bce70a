"""Which diary days each appointment has been on, and the diary of a day as it stood.

Both are the diary fold (``diary.apply``) over an appointment's events, so the
index, the live diary and the diary as it stood cannot disagree. The index may
hold more than a day shows (the as-at fold filters); it lacks a day only if one
appointment id were created twice at different places with its clocks running
backwards in between, which booking never does.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from schemas.base import DomainEvent
from services.projections.domain.diary import DiaryEntry, apply

# (place, place_id, local day): one station's or diary car's day; a diary car's day is named
# by its district, as in booking's stream ``diary-car:{district_id}:{day}``.
Day = tuple[str, str, date]


def day_of(entry: DiaryEntry) -> Day:
    """The diary day an entry is on."""
    return (entry.place, entry.place_id, entry.local_day)


@dataclass(frozen=True)
class Fact:
    """One booking event of one appointment, as the diary folds it."""

    appointment_id: str
    event_id: UUID
    occurred_at: datetime
    event: DomainEvent


@dataclass
class Folded:
    """What a run of facts changed: entries to write, and the days they put appointments on."""

    # appointment id -> its entry now, and the event that last changed it
    changed: dict[str, tuple[DiaryEntry, UUID]] = field(default_factory=dict)
    # (day, appointment id) -> the earliest instant of an event that left it on that day
    days: dict[tuple[Day, str], datetime] = field(default_factory=dict)


def fold(entries: MutableMapping[str, DiaryEntry], facts: Iterable[Fact]) -> Folded:
    """Fold facts, in order, into ``entries`` (updated in place); returns what changed."""
    folded = Folded()
    for fact in facts:
        before = entries.get(fact.appointment_id)
        after = apply(before, fact.event)
        if after is None:
            continue
        # Every event counts, not only moves: an event's instant may be earlier than its
        # predecessor's, and the as-at fold keeps only the events up to the instant.
        key = (day_of(after), fact.appointment_id)
        folded.days[key] = min(folded.days.get(key, fact.occurred_at), fact.occurred_at)
        if after != before:
            entries[fact.appointment_id] = after
            folded.changed[fact.appointment_id] = (after, fact.event_id)
    return folded


def as_it_stood(events: Iterable[tuple[str, DomainEvent]], day: Day) -> list[DiaryEntry]:
    """The entries of ``day`` after folding (appointment id, event) pairs, in time order."""
    entries: dict[str, DiaryEntry | None] = {}
    for appointment_id, event in events:
        entries[appointment_id] = apply(entries.get(appointment_id), event)
    shown = [e for e in entries.values() if e is not None and day_of(e) == day]
    return sorted(shown, key=lambda e: e.starts_at)
