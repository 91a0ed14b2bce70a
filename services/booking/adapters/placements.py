"""Where each appointment is held once a unit's events are applied: one row per appointment.

The events of a unit are netted per appointment first (a move between days frees the
old day and takes the new one, so only the final hold is written), so the tables can be
written with one statement for what is released and one for what is held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentCancelled,
    AppointmentDisplaced,
    AppointmentMovedOut,
    AppointmentOffered,
    AppointmentReassigned,
    AppointmentRescheduled,
    DiaryCarVisitBooked,
    OfferLapsed,
    SlotBooked,
)
from services.booking.domain.state import Diary

Action = Literal["keep", "hold", "release"]


@dataclass(frozen=True)
class Placement:
    """An appointment's location, room hold and officer hold after a unit's events."""

    appointment_id: str
    stream_id: str | None = None  # its diary day now; None: unchanged
    room_action: Action = "keep"
    room: tuple[str, str, datetime, datetime] | None = None  # station, room, from, to
    officer_action: Action = "keep"
    officer: tuple[str, datetime, datetime] | None = None  # officer, from, to


def _step(p: Placement, event: DomainEvent) -> Placement:
    match event:
        case SlotBooked():
            room = (event.station_id, event.room_id, event.starts_at, event.ends_at)
            p = replace(p, stream_id=event.diary, room_action="hold", room=room)
            return _officer(p, event.officer_id, event.starts_at, event.ends_at)
        case DiaryCarVisitBooked():
            p = replace(p, stream_id=event.diary)
            return _officer(p, event.officer_id, event.window_starts_at, event.window_ends_at)
        case AppointmentOffered():
            slot = event.slot
            if slot.room_id is not None:
                room = (slot.place_id, slot.room_id, slot.starts_at, slot.ends_at)
                p = replace(p, room_action="hold", room=room)
            p = replace(p, stream_id=event.diary)
            return _officer(p, event.officer_id, slot.starts_at, slot.ends_at)
        case AppointmentRescheduled():
            if event.room_id is not None:
                room = (Diary.parse(event.diary).place_id, event.room_id, event.starts_at, event.ends_at)
                p = replace(p, room_action="hold", room=room)
            p = replace(p, stream_id=event.diary)
            return _officer(p, event.officer_id, event.starts_at, event.ends_at)
        case AppointmentReassigned():
            return _officer(p, event.to_officer_id, event.starts_at, event.ends_at)
        case AppointmentCancelled() | AppointmentMovedOut() | AppointmentDisplaced() | OfferLapsed():
            return replace(p, room_action="release", room=None, officer_action="release", officer=None)
    return p


def _officer(p: Placement, officer_id: str | None, starts: datetime, ends: datetime) -> Placement:
    if officer_id is None:
        return replace(p, officer_action="release", officer=None)
    return replace(p, officer_action="hold", officer=(officer_id, starts, ends))


def placements_of(events: Sequence[DomainEvent]) -> list[Placement]:
    """The net placement of every appointment these events touch, in first-touched order."""
    placed: dict[str, Placement] = {}
    for event in events:
        appointment_id = getattr(event, "appointment_id", None)
        if not isinstance(appointment_id, str):
            continue
        before = placed.get(appointment_id, Placement(appointment_id))
        placed[appointment_id] = _step(before, event)
    return list(placed.values())
