"""The projections' writes, a batch at a time: a whole Kafka fetch in a few statements.

One record is a batch of one, so the read models cannot depend on how the
records were grouped. Rows that are new go in by COPY (PostgreSQL's bulk path, in
binary); rows that may be there already, by one multi-row upsert.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic_core import to_json

from schemas.envelope import Envelope
from services.common.consumer import Position
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.diary_days import Day, Fact, fold

Batch = Sequence[tuple[Envelope, Position]]
_DIARY_COLUMNS = [f.name for f in fields(DiaryEntry)]
_DIARY_ROW = [*_DIARY_COLUMNS, "local_day", "last_event_id"]
_DAYS_ROW = ["place", "place_id", "local_day", "appointment_id", "since"]
_HISTORY_ROW = [
    "event_id", "topic", "partition", "offset", "event_type", "schema_version", "source", "subject",
    "appointment_id", "actor", "correlation_id", "causation_id", "occurred_at", "data",
]  # fmt: skip


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


def history_row(env: Envelope, pos: Position) -> tuple[Any, ...]:
    """One event_history row, in ``_HISTORY_ROW``'s order; the data as JSON text for its jsonb."""
    appointment_id = env.data.get("appointment_id")
    if appointment_id is not None and not isinstance(appointment_id, str):
        appointment_id = json.dumps(appointment_id)  # the JSON text, as json_populate_recordset kept it
    return (
        env.event_id, pos.topic, pos.partition, pos.offset, env.event_type, env.schema_version,
        env.source, env.subject, appointment_id, env.actor,
        env.correlation_id, env.causation_id, env.time, to_json(env.data).decode(),
    )  # fmt: skip


async def record_events(conn: asyncpg.Connection, batch: Batch) -> None:
    """Keep every event of the batch in the history, as received; an event kept before stays as it was."""
    await _record(conn, batch, lambda _: None)


async def _record(conn: asyncpg.Connection, batch: Batch, each: Callable[[Envelope], object]) -> None:
    """``record_events``, calling ``each`` on every event as the rows stream to the server."""
    if not batch:
        return
    kept = {
        r["event_id"]
        for r in await conn.fetch(
            "select event_id from event_history where event_id = any($1::uuid[])",
            [env.event_id for env, _ in batch],
        )
    }

    def rows() -> Iterator[tuple[Any, ...]]:
        for env, pos in batch:
            each(env)
            if env.event_id not in kept:
                kept.add(env.event_id)  # the first of an event id twice in a batch, as on conflict did
                yield history_row(env, pos)

    await conn.copy_records_to_table("event_history", records=rows(), columns=_HISTORY_ROW)


def fact_of(env: Envelope) -> Fact | None:
    """The event as the diary folds it, validated against its published schema (None: no appointment)."""
    appointment_id = env.data.get("appointment_id")
    if not isinstance(appointment_id, str):
        return None
    return Fact(appointment_id, env.event_id, env.time, env.domain_event())


async def apply_booking_events(conn: asyncpg.Connection, batch: Batch) -> None:
    """Record booking events and fold them into their appointments' diary rows and days.

    The two read models of one consumer (``record_events`` then ``fold_booking_events``),
    with the facts gathered as the history's rows stream out rather than in a loop of their own.
    """
    rows = await _lock_diary_rows(conn, batch)
    facts: list[Fact] = []

    def validate(env: Envelope) -> None:
        if (fact := fact_of(env)) is not None:
            facts.append(fact)

    # Each event is validated (a batch's largest cost here) as its history row goes out:
    # COPY streams, so the server stores the rows sent while the next ones are validated.
    # A poison event aborts the COPY, and with it the batch.
    await _record(conn, batch, validate)
    await _fold(conn, rows, facts)


async def fold_booking_events(conn: asyncpg.Connection, batch: Batch) -> None:
    """Only the diary's part of ``apply_booking_events``: fold the events into diary rows and days.

    What a replay of the diary alone applies; the events are validated as the live path does.
    """
    rows = await _lock_diary_rows(conn, batch)
    facts = [fact for env, _ in batch if (fact := fact_of(env)) is not None]
    await _fold(conn, rows, facts)


async def _lock_diary_rows(conn: asyncpg.Connection, batch: Batch) -> list[asyncpg.Record]:
    """The diary rows of the batch's appointments, locked in one order."""
    appointments = sorted({a for env, _ in batch if isinstance(a := env.data.get("appointment_id"), str)})
    rows: list[asyncpg.Record] = await conn.fetch(
        "select * from diary where appointment_id = any($1::text[]) order by appointment_id for update",
        appointments,
    )
    return rows


async def _fold(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record], facts: Sequence[Fact]) -> None:
    if not facts:
        return
    entries = {r["appointment_id"]: entry_of(r) for r in rows}
    stored = set(entries)
    folded = fold(entries, facts)
    await write_entries(conn, folded.changed, stored)
    await write_days(conn, folded.days, stored)


def diary_row(entry: DiaryEntry, event_id: UUID) -> tuple[Any, ...]:
    """One diary row, in ``_DIARY_ROW``'s order."""
    # Not dataclasses.asdict or astuple: they deep-copy every value.
    return (*(getattr(entry, c) for c in _DIARY_COLUMNS), entry.local_day, event_id)


async def write_entries(
    conn: asyncpg.Connection, changed: Mapping[str, tuple[DiaryEntry, UUID]], stored: Collection[str]
) -> None:
    """Write the diary rows that changed, each with the event that last changed it.

    ``stored`` names the appointments whose rows this transaction read and locked: those
    are upserted; the others had no row and go in by COPY. Only this consumer writes the
    diary, an appointment's events all on one partition: should a second member of its
    group have taken the partition meanwhile, the COPY fails, the batch is handled record
    by record, and each finds its offset stored by the other (a duplicate).
    """
    new = [diary_row(entry, event_id) for a, (entry, event_id) in changed.items() if a not in stored]
    if new:
        await conn.copy_records_to_table("diary", records=new, columns=_DIARY_ROW)
    known = [
        dict(zip(_DIARY_ROW, diary_row(entry, event_id), strict=True))
        for a, (entry, event_id) in changed.items()
        if a in stored
    ]
    updates = ", ".join(f"{c} = excluded.{c}" for c in _DIARY_ROW if c != "appointment_id")
    await insert_rows(conn, "diary", known, f"on conflict (appointment_id) do update set {updates}")


async def write_days(
    conn: asyncpg.Connection, days: Mapping[tuple[Day, str], datetime], stored: Collection[str] | None = None
) -> None:
    """Add the diary days appointments were put on; an earlier instant for a known one wins.

    With ``stored`` (the appointments that had a diary row), the days of the others go in
    by COPY: an appointment has days only once it has a row, both written by one fold in
    one transaction (and the backfill folds only what was applied).
    """
    new = {key: since for key, since in days.items() if stored is not None and key[1] not in stored}
    if new:
        rows = [(place, place_id, day, a, since) for ((place, place_id, day), a), since in new.items()]
        await conn.copy_records_to_table("diary_days", records=rows, columns=_DAYS_ROW)
    keys = [key for key in days if key not in new]
    if not keys:
        return
    await conn.execute(
        "insert into diary_days (place, place_id, local_day, appointment_id, since)"
        " select * from unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::timestamptz[])"
        " on conflict (place, place_id, local_day, appointment_id) do update set since = excluded.since"
        " where excluded.since < diary_days.since",
        [place for (place, _, _), _ in keys],
        [place_id for (_, place_id, _), _ in keys],
        [day for (_, _, day), _ in keys],
        [appointment_id for _, appointment_id in keys],
        [days[key] for key in keys],
    )
