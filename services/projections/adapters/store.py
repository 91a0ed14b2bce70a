"""The projections' PostgreSQL side: record every event, keep the diary rows current, read them."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterable
from datetime import date, datetime

import asyncpg

from schemas.base import parse_event
from schemas.envelope import Envelope
from services.common.consumer import Position
from services.projections.adapters.batch import apply_booking_events, entry_of, record_events
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.diary_days import as_it_stood


async def record_event(conn: asyncpg.Connection, env: Envelope, pos: Position) -> None:
    """Keep the event in the history, as received."""
    await record_events(conn, [(env, pos)])


async def apply_booking_event(conn: asyncpg.Connection, env: Envelope, pos: Position) -> None:
    """Record a booking event and fold it into that appointment's diary row (a batch of one)."""
    await apply_booking_events(conn, [(env, pos)])


async def diary_rows(conn: asyncpg.Connection, place: str, place_id: str, day: date) -> list[DiaryEntry]:
    """The current diary of one station or diary car for one local day, in time order."""
    rows = await conn.fetch(
        "select * from diary where place = $1 and place_id = $2 and local_day = $3 order by starts_at",
        place,
        place_id,
        day,
    )
    return [entry_of(r) for r in rows]


async def diary_as_at(
    conn: asyncpg.Connection, place: str, place_id: str, day: date, instant: datetime
) -> list[DiaryEntry]:
    """The diary of one place and day as it stood at ``instant``: the same fold over older events.

    Only the appointments that had been on that day by then are read (``diary_days``);
    each one's events up to the instant are folded, and those still on the day shown.
    """
    rows = await conn.fetch(
        "select appointment_id, event_type, schema_version, data from event_history"
        " where appointment_id in (select appointment_id from diary_days"
        "   where place = $1 and place_id = $2 and local_day = $3 and since <= $4)"
        " and occurred_at <= $4 and topic like '%booking.events'"
        ' order by partition, "offset"',
        place,
        place_id,
        day,
        instant,
    )
    events = (
        (r["appointment_id"], parse_event(r["event_type"], r["schema_version"], json.loads(r["data"])))
        for r in rows
    )
    return as_it_stood(events, (place, place_id, day))


async def causes(conn: asyncpg.Connection, causation_ids: Iterable[str | None]) -> dict[str, str]:
    """The topic of each causing event the recorded history holds, by event id (absent: not held)."""
    ids = set()
    for causation in causation_ids:
        with contextlib.suppress(TypeError, ValueError):
            ids.add(uuid.UUID(str(causation)))
    if not ids:
        return {}
    rows = await conn.fetch(
        "select event_id, topic from event_history where event_id = any($1::uuid[])", list(ids)
    )
    return {str(r["event_id"]): r["topic"] for r in rows}


async def appointment_history(conn: asyncpg.Connection, appointment_id: str) -> list[asyncpg.Record]:
    """Every event of one appointment, oldest first, with who did it."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "select event_id, event_type, schema_version, actor, correlation_id, causation_id,"
        " occurred_at, received_at, source, data from event_history where appointment_id = $1"
        ' order by partition, "offset"',
        appointment_id,
    )
    return rows
