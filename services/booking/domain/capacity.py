"""Who and where is free: a room (or diary-car place) and an officer on duty, at one time.

One appointment per room per slot; one appointment per officer at a time. A
diary car takes ``visits_per_window`` visits in each window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas.booking import Slot
from services.booking.domain.calendar import openings, to_utc
from services.booking.domain.commands import OfficerOnDuty, OnDuty
from services.booking.domain.errors import ClockChange
from services.booking.domain.rules import day_refusal
from services.booking.domain.state import Appointment, DiaryDay
from services.common.reference import DiaryCar


@dataclass(frozen=True)
class Allocation:
    """The room (None for a diary car) and officer (None when the roster is not consulted)."""

    room_id: str | None
    officer_id: str | None


def _others(state: DiaryDay, starts_at: datetime, ends_at: datetime, moving: str | None) -> list[Appointment]:
    return [a for a in state.holding() if a.appointment_id != moving and a.overlaps(starts_at, ends_at)]


def has_place(
    state: DiaryDay, starts_at: datetime, ends_at: datetime, moving: str | None = None
) -> tuple[bool, str | None]:
    """Whether a room (or diary-car place) is free for the span, and which room."""
    busy = _others(state, starts_at, ends_at, moving)
    if isinstance(state.place, DiaryCar):
        return len(busy) < state.place.visits_per_window, None
    taken = {a.room_id for a in busy}
    room = next((r.id for r in state.place.rooms if r.id not in taken), None)
    return room is not None, room


def free_officer(
    state: DiaryDay,
    on_duty: Sequence[OfficerOnDuty],
    starts_at: datetime,
    ends_at: datetime,
    moving: str | None = None,
    prefer: str | None = None,
) -> str | None:
    """The officer on duty for the whole span with nothing else then: ``prefer`` if free,
    else the least loaded (ties by id, so the choice is deterministic)."""
    busy = {a.officer_id for a in _others(state, starts_at, ends_at, moving)}
    covering = {
        d.officer_id
        for d in on_duty
        if d.starts_at <= starts_at and ends_at <= d.ends_at and d.officer_id not in busy
    }
    if not covering:
        return None
    if prefer in covering:
        return prefer
    load = {o: sum(1 for a in state.holding() if a.officer_id == o) for o in covering}
    return min(covering, key=lambda o: (load[o], o))


def allocate(
    state: DiaryDay,
    starts_at: datetime,
    ends_at: datetime,
    on_duty: OnDuty,
    moving: str | None = None,
    prefer: str | None = None,
) -> Allocation | None:
    """A room and officer both free for the span, or None when the time is full."""
    free, room_id = has_place(state, starts_at, ends_at, moving)
    if not free:
        return None
    if on_duty is None:
        return Allocation(room_id, None)
    officer = free_officer(state, on_duty, starts_at, ends_at, moving, prefer)
    return Allocation(room_id, officer) if officer else None


def free_slots(
    state: DiaryDay, now: datetime, on_duty: OnDuty = None, moving: str | None = None
) -> list[Slot]:
    """The day's slots (or windows) still to begin where a room and an officer are free."""
    if day_refusal(state) is not None:
        return []
    slots: list[Slot] = []
    for start, end in openings(state.place, state.diary.day):
        try:
            starts_at, ends_at = to_utc(state.diary.day, start), to_utc(state.diary.day, end)
        except ClockChange:
            continue
        if starts_at <= now:
            continue
        allocation = allocate(state, starts_at, ends_at, on_duty, moving)
        if allocation is not None:
            slots.append(
                Slot(
                    place=state.diary.place,
                    place_id=state.diary.place_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    room_id=allocation.room_id,
                )
            )
    return slots


def nearest_alternatives(wanted: datetime, free: Iterable[Slot], count: int = 3) -> list[Slot]:
    """The ``count`` free slots nearest the wanted time (earlier wins a tie), in time order."""
    nearest = sorted(free, key=lambda s: (abs(s.starts_at - wanted), s.starts_at))[:count]
    return sorted(nearest, key=lambda s: s.starts_at)
