"""A booking store with a history: events COPYed in, before the service starts, on days nobody books.

The rows are real SlotBooked events of this run (sealed, decided by the domain)
under new appointment and event ids, spread over past diary days of every
station, ``EVENTS_PER_STREAM`` per day with versions 1..n. Their outbox rows are
already published, so the relay has nothing to do. The hashes are not a valid
chain (``appointments audit verify`` would object); the bench only needs the
rows, indexes and versions a long-lived store has.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import asyncpg

from services.booking.domain.state import Diary
from services.common.eventstore import Outgoing

# A busy station day holds about this many events; it sets how many streams a million make.
EVENTS_PER_STREAM = 20
# Rows per COPY: big enough to stream well, small enough to keep the client's memory modest.
CHUNK_ROWS = 20_000
COPY_CONNECTIONS = 2
EVENT_COLUMNS = (
    "stream_id", "version", "event_id", "event_type", "schema_version", "data",
    "correlation_id", "causation_id", "actor", "occurred_at", "prev_hash", "hash",
)  # fmt: skip
OUTBOX_COLUMNS = ("event_id", "topic", "key", "created_at", "published_at")


@dataclass(frozen=True)
class Preloaded:
    """What went into the store; how long the COPY took, and the VACUUM ANALYZE and CHECKPOINT after."""

    events: int
    streams: int
    copy_seconds: float
    settle_seconds: float


def history_streams(stations: Sequence[str], before: date, count: int) -> Iterator[str]:
    """``count`` station diary-day streams, every station in turn, going back day by day from ``before``."""
    for n in range(count):
        day = before - timedelta(days=1 + n // len(stations))
        yield Diary("station", stations[n % len(stations)], day).stream_id


@dataclass(frozen=True)
class _Template:
    data: str
    appointment_id: str
    item: Outgoing


def _templates(items: Sequence[Outgoing]) -> list[_Template]:
    return [
        # The text eventstore.append would store, so jsonb parses what the service's rows hold.
        _Template(json.dumps(i.envelope.data), str(i.envelope.data["appointment_id"]), i)
        for i in items
    ]


def _rows(
    streams: Sequence[str], events: int, templates: Sequence[_Template]
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(events row, outbox row) for each event, stream after stream, versions counting from 1."""
    # uuid4() per row would be a third of the client's time: a random version-4 prefix per
    # store and a counter give ids just as unique, for a fraction of the cost.
    ids = [str(uuid.uuid4())[:24] for _ in range(2)]
    n = 0
    for stream in streams:
        # The stream id ends with its day: the events of a day happened on the morning before it.
        occurred = datetime.combine(date.fromisoformat(stream.rsplit(":", 1)[1]), clock(9), UTC)
        prev: bytes | None = None
        for version in range(1, EVENTS_PER_STREAM + 1):
            if n == events:
                return
            t = templates[n % len(templates)]
            env = t.item.envelope
            appointment_id, event_id = f"{ids[0]}{n:012x}", f"{ids[1]}{n:012x}"
            digest = hashlib.sha256((prev or b"") + event_id.encode()).digest()
            at = occurred + timedelta(seconds=version)
            yield (
                (
                    stream, version, event_id, env.event_type, env.schema_version,
                    t.data.replace(t.appointment_id, appointment_id), env.correlation_id,
                    env.causation_id, env.actor, at, prev, digest,
                ),
                (event_id, t.item.topic, appointment_id, at, at),
            )  # fmt: skip
            prev = digest
            n += 1


async def preload(
    url: str, events: int, items: Sequence[Outgoing], stations: Sequence[str], before: date
) -> Preloaded:
    """COPY ``events`` events (and published outbox rows) into the migrated store at ``url``."""
    streams = list(history_streams(stations, before, -(-events // EVENTS_PER_STREAM)))
    rows = _rows(streams, events, _templates(items))
    started = time.perf_counter()
    # Two connections: one backend parses and indexes a chunk while this process builds the next.
    await asyncio.gather(*(_copy_chunks(url, rows) for _ in range(COPY_CONNECTIONS)))
    copied = time.perf_counter()
    conn: asyncpg.Connection = await asyncpg.connect(url)
    try:
        # As a store that has lived would be: planner statistics, visibility map and hint bits
        # set, and no autovacuum of a fresh million rows starting during the measured phase.
        await conn.execute("vacuum (analyze) events, outbox")
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            # Gigabytes just written are still dirty in memory; without this the checkpointer
            # writes them out while the path is measured, a cost no long-lived store pays.
            await conn.execute("checkpoint")
    finally:
        await conn.close()
    return Preloaded(events, len(streams), copied - started, time.perf_counter() - copied)


async def _copy_chunks(url: str, rows: Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]) -> None:
    conn: asyncpg.Connection = await asyncpg.connect(url)
    try:
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            # Skips the outbox's foreign-key trigger, row by row a third of the load: every
            # event id it names was copied just before. Only a superuser may; others check it.
            await conn.execute("set session_replication_role = replica")
        # One shared iterator: taking a chunk runs between awaits, so no row is taken twice.
        while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
            await conn.copy_records_to_table("events", records=[e for e, _ in chunk], columns=EVENT_COLUMNS)
            await conn.copy_records_to_table("outbox", records=[o for _, o in chunk], columns=OUTBOX_COLUMNS)
    finally:
        await conn.close()
