"""The projections' writes, a batch at a time: a whole Kafka fetch in a few statements.

One record is a batch of one, so the read models cannot depend on how the
records were grouped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from schemas.base import parse_event
from schemas.envelope import Envelope
from services.common.consumer import Position
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.diary_days import Day, Fact, fold

Batch = Sequence[tuple[Envelope, Position]]
_DIARY_COLUMNS = [f.name for f in fields(DiaryEntry)]


def entry_of(row: Mapping[str, Any]) -> DiaryEntry:
    """A diary row as the fold's entry."""
    return DiaryEntry(**{name: row[name] for name in _DIARY_COLUMNS})


async def insert_rows(
    conn: asyncpg.Connection, table: str, rows: Sequence[Mapping[str, Any]], tail: str
) -> None:
    """Insert rows (each keyed by column) in one statement; the table's own column types read them."""
    if not rows:
        return
    columns = ", ".join(f'"{name}"' for name in rows[0])
    await conn.execute(
        f"insert into {table} ({columns}) select {columns}"
        f" from json_populate_recordset(null::{table}, $1::json) {tail}",
        json.dumps(rows, default=str),
    )


async def record_events(conn: asyncpg.Connection, batch: Batch) -> None:
    """Keep every event of the batch in the history, as received."""
    rows = [
        {
            "event_id": env.event_id, "topic": pos.topic, "partition": pos.partition, "offset": pos.offset,
            "event_type": env.event_type, "schema_version": env.schema_version, "source": env.source,
            "subject": env.subject, "appointment_id": env.data.get("appointment_id"), "actor": env.actor,
            "correlation_id": env.correlation_id, "causation_id": env.causation_id,
            "occurred_at": env.time, "data": env.data,
        }
        for env, pos in batch
    ]  # fmt: skip
    await insert_rows(conn, "event_history", rows, "on conflict (event_id) do nothing")


async def apply_booking_events(conn: asyncpg.Connection, batch: Batch) -> None:
    """Record booking events and fold them into their appointments' diary rows and days."""
    await record_events(conn, batch)
    facts = [
        Fact(
            env.data["appointment_id"],
            env.event_id,
            env.time,
            parse_event(env.event_type, env.schema_version, env.data),
        )
        for env, _ in batch
        if isinstance(env.data.get("appointment_id"), str)
    ]
    if not facts:
        return
    rows = await conn.fetch(
        "select * from diary where appointment_id = any($1::text[]) order by appointment_id for update",
        sorted({f.appointment_id for f in facts}),
    )
    folded = fold({r["appointment_id"]: entry_of(r) for r in rows}, facts)
    await write_entries(conn, folded.changed)
    await write_days(conn, folded.days)


async def write_entries(conn: asyncpg.Connection, changed: Mapping[str, tuple[DiaryEntry, UUID]]) -> None:
    """Upsert the diary rows that changed, each with the event that last changed it."""
    rows = [
        # Not dataclasses.asdict: it deep-copies every value, a third of a batch's time.
        {
            **{c: getattr(entry, c) for c in _DIARY_COLUMNS},
            "local_day": entry.local_day,
            "last_event_id": event_id,
        }
        for entry, event_id in changed.values()
    ]
    columns = [c for c in [*_DIARY_COLUMNS, "local_day", "last_event_id"] if c != "appointment_id"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    await insert_rows(conn, "diary", rows, f"on conflict (appointment_id) do update set {updates}")


async def write_days(conn: asyncpg.Connection, days: Mapping[tuple[Day, str], datetime]) -> None:
    """Add the diary days appointments were put on; an earlier instant for a known one wins."""
    rows = [
        {
            "place": place,
            "place_id": place_id,
            "local_day": day,
            "appointment_id": appointment_id,
            "since": since,
        }
        for ((place, place_id, day), appointment_id), since in days.items()
    ]
    await insert_rows(
        conn,
        "diary_days",
        rows,
        "on conflict (place, place_id, local_day, appointment_id) do update set since = excluded.since"
        " where excluded.since < diary_days.since",
    )
