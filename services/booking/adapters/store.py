"""Booking's own tables beside the event store: where appointments live, and the room backstop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from asyncpg import Range

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


async def record_placement(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> None:
    """Keep appointment locations, room holds and officer holds in step with the events just appended.

    The hold tables have exclusion constraints: a second hold on the same room, or the
    same officer, for an overlapping time fails the whole transaction, whatever the
    decider said.
    """
    for event in events:
        match event:
            case SlotBooked() | DiaryCarVisitBooked() | AppointmentRescheduled() | AppointmentOffered():
                await conn.execute(
                    "insert into appointment_locations (appointment_id, stream_id) values ($1, $2)"
                    " on conflict (appointment_id) do update set stream_id = excluded.stream_id",
                    event.appointment_id,
                    event.diary,
                )
        match event:
            case SlotBooked():
                await _hold(conn, event.appointment_id, event.station_id, event.room_id, event)
            case AppointmentOffered() if event.slot.room_id is not None:
                await _hold(conn, event.appointment_id, event.slot.place_id, event.slot.room_id, event)
            case AppointmentRescheduled() if event.room_id is not None:
                await _hold(
                    conn, event.appointment_id, Diary.parse(event.diary).place_id, event.room_id, event
                )
            case AppointmentCancelled() | AppointmentMovedOut() | AppointmentDisplaced() | OfferLapsed():
                await conn.execute("delete from room_holds where appointment_id = $1", event.appointment_id)
        await _hold_officer(conn, event)


async def _hold_officer(conn: asyncpg.Connection, event: DomainEvent) -> None:
    """Keep the officer hold of an appointment in step with its event."""
    officer: str | None
    starts: datetime | None
    ends: datetime | None
    match event:
        case SlotBooked() | AppointmentRescheduled():
            officer, starts, ends = event.officer_id, event.starts_at, event.ends_at
        case DiaryCarVisitBooked():
            officer, starts, ends = event.officer_id, event.window_starts_at, event.window_ends_at
        case AppointmentOffered():
            officer, starts, ends = event.officer_id, event.slot.starts_at, event.slot.ends_at
        case AppointmentReassigned():
            officer, starts, ends = event.to_officer_id, event.starts_at, event.ends_at
        case AppointmentCancelled() | AppointmentMovedOut() | AppointmentDisplaced() | OfferLapsed():
            officer, starts, ends = None, None, None
        case _:
            return
    appointment_id = event.appointment_id
    if officer is None or starts is None or ends is None:
        await conn.execute("delete from officer_holds where appointment_id = $1", appointment_id)
        return
    await conn.execute(
        "insert into officer_holds (appointment_id, officer_id, during) values ($1, $2, $3)"
        " on conflict (appointment_id) do update"
        " set officer_id = excluded.officer_id, during = excluded.during",
        appointment_id,
        officer,
        Range(starts, ends),
    )


async def _hold(
    conn: asyncpg.Connection, appointment_id: str, station_id: str, room_id: str, event: DomainEvent
) -> None:
    span = _span(event)
    await conn.execute(
        "insert into room_holds (appointment_id, station_id, room_id, during) values ($1, $2, $3, $4)"
        " on conflict (appointment_id) do update"
        " set station_id = excluded.station_id, room_id = excluded.room_id, during = excluded.during",
        appointment_id,
        station_id,
        room_id,
        span,
    )


def _span(event: DomainEvent) -> Range:
    match event:
        case AppointmentOffered():
            return Range(event.slot.starts_at, event.slot.ends_at)
        case SlotBooked() | AppointmentRescheduled():
            return Range(event.starts_at, event.ends_at)
    raise TypeError(f"{event.event_type} holds no room")


async def locate(conn: asyncpg.Connection, appointment_id: str) -> str | None:
    """The diary-day stream an appointment lives in now, if it exists."""
    stream: str | None = await conn.fetchval(
        "select stream_id from appointment_locations where appointment_id = $1", appointment_id
    )
    return stream
