"""The projections' PostgreSQL side: record every event, keep the diary rows current."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from typing import Any

import asyncpg

from schemas.base import parse_event
from schemas.envelope import Envelope
from services.common.consumer import Position
from services.projections.domain.diary import DiaryEntry, apply

_DIARY_COLUMNS = [f.name for f in fields(DiaryEntry)]


async def record_event(conn: asyncpg.Connection, env: Envelope, pos: Position) -> None:
    """Keep the event in the history, as received."""
    await conn.execute(
        'insert into event_history (event_id, topic, partition, "offset", event_type, schema_version,'
        " source, subject, appointment_id, actor, correlation_id, causation_id, occurred_at, data)"
        " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)"
        " on conflict (event_id) do nothing",
        env.event_id,
        pos.topic,
        pos.partition,
        pos.offset,
        env.event_type,
        env.schema_version,
        env.source,
        env.subject,
        env.data.get("appointment_id"),
        env.actor,
        env.correlation_id,
        env.causation_id,
        env.time,
        json.dumps(env.data),
    )


def _row_to_entry(row: asyncpg.Record) -> DiaryEntry:
    return DiaryEntry(**{name: row[name] for name in _DIARY_COLUMNS})


async def apply_booking_event(conn: asyncpg.Connection, env: Envelope, pos: Position) -> None:
    """Record a booking event and fold it into that appointment's diary row."""
    await record_event(conn, env, pos)
    appointment_id = env.data.get("appointment_id")
    if not isinstance(appointment_id, str):
        return
    event = parse_event(env.event_type, env.schema_version, env.data)
    row = await conn.fetchrow("select * from diary where appointment_id = $1 for update", appointment_id)
    before = _row_to_entry(row) if row else None
    after = apply(before, event)
    if after is None or after == before:
        return
    values = [getattr(after, name) for name in _DIARY_COLUMNS]
    columns = ", ".join(_DIARY_COLUMNS)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in _DIARY_COLUMNS if c != "appointment_id")
    n = len(values)
    await conn.execute(
        f"insert into diary ({columns}, local_day, last_event_id) values ({params}, ${n + 1}, ${n + 2})"
        f" on conflict (appointment_id) do update set {updates},"
        " local_day = excluded.local_day, last_event_id = excluded.last_event_id",
        *values,
        after.local_day,
        env.event_id,
    )


async def diary_rows(conn: asyncpg.Connection, place: str, place_id: str, day: Any) -> list[DiaryEntry]:
    """The current diary of one station or diary car for one local day, in time order."""
    rows = await conn.fetch(
        "select * from diary where place = $1 and place_id = $2 and local_day = $3 order by starts_at",
        place,
        place_id,
        day,
    )
    return [_row_to_entry(r) for r in rows]


async def diary_as_at(
    conn: asyncpg.Connection, place: str, place_id: str, day: Any, instant: datetime
) -> list[DiaryEntry]:
    """The diary of one place and day as it stood at ``instant``: the same fold over older events."""
    rows = await conn.fetch(
        "select event_type, schema_version, data from event_history"
        " where appointment_id is not null and occurred_at <= $1 and topic like '%booking.events'"
        ' order by partition, "offset"',
        instant,
    )
    entries: dict[str, DiaryEntry | None] = {}
    for row in rows:
        data = json.loads(row["data"])
        event = parse_event(row["event_type"], row["schema_version"], data)
        entries[data["appointment_id"]] = apply(entries.get(data["appointment_id"]), event)
    shown = [
        e
        for e in entries.values()
        if e is not None and e.place == place and e.place_id == place_id and e.local_day == day
    ]
    return sorted(shown, key=lambda e: e.starts_at)


async def appointment_history(conn: asyncpg.Connection, appointment_id: str) -> list[asyncpg.Record]:
    """Every event of one appointment, oldest first, with who did it."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "select event_id, event_type, schema_version, actor, correlation_id, causation_id,"
        " occurred_at, received_at, source, data from event_history where appointment_id = $1"
        ' order by partition, "offset"',
        appointment_id,
    )
    return rows
