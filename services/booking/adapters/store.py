"""Booking's own tables beside the event store: where appointments live, and the room backstop."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from asyncpg import Range

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentCancelled,
    AppointmentDisplaced,
    AppointmentMovedOut,
    AppointmentOffered,
    AppointmentRescheduled,
    DiaryCarVisitBooked,
    OfferLapsed,
    SlotBooked,
)
from services.booking.domain.state import Diary


async def record_placement(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> None:
    """Keep appointment locations and room holds in step with the events just appended.

    The room holds table has an exclusion constraint: a second hold on the same room
    for an overlapping time fails the whole transaction, whatever the decider said.
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
