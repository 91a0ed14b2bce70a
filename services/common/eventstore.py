"""The event store: append-only streams with optimistic concurrency, and the outbox beside them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from schemas.envelope import Envelope

OUTBOX_CHANNEL = "outbox"


class StreamConflict(Exception):
    """Someone appended to the stream since it was loaded: reload, decide again, retry."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} moved past version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back from the store, with its place in the stream."""

    stream_id: str
    version: int
    position: int
    envelope: Envelope
    hash: bytes


@dataclass(frozen=True)
class Outgoing:
    """An envelope to append, and where the relay should publish it."""

    envelope: Envelope
    topic: str
    key: str


def chain_hash(prev_hash: bytes | None, envelope: Envelope, version: int) -> bytes:
    """The hash that links an event to its predecessor in the stream."""
    content = json.dumps(
        {
            "stream_id": envelope.subject,
            "version": version,
            "event_id": str(envelope.event_id),
            "event_type": envelope.event_type,
            "schema_version": envelope.schema_version,
            "data": envelope.data,
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
            "actor": envelope.actor,
            "time": envelope.time.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return hashlib.sha256((prev_hash or b"") + content).digest()


def _row_to_event(row: asyncpg.Record) -> StoredEvent:
    data: Any = row["data"]
    envelope = Envelope(
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        source=row["source"],
        subject=row["stream_id"],
        time=row["occurred_at"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        actor=row["actor"],
        data=json.loads(data) if isinstance(data, str) else data,
    )
    return StoredEvent(row["stream_id"], row["version"], row["position"], envelope, row["hash"])


_SELECT = (
    "select position, stream_id, version, event_id, event_type, schema_version, data,"
    " correlation_id, causation_id, actor, occurred_at, hash, $2::text as source from events"
)


async def load_stream(conn: asyncpg.Connection, stream_id: str, source: str) -> list[StoredEvent]:
    """Every event of one stream, in version order."""
    rows = await conn.fetch(f"{_SELECT} where stream_id = $1 order by version", stream_id, source)
    return [_row_to_event(r) for r in rows]


async def load_all(
    conn: asyncpg.Connection, source: str, after_position: int = 0, limit: int = 1000
) -> list[StoredEvent]:
    """Events of every stream in store order, for audit and rebuilds."""
    rows = await conn.fetch(
        f"{_SELECT} where position > $1 order by position limit $3", after_position, source, limit
    )
    return [_row_to_event(r) for r in rows]


async def append(
    conn: asyncpg.Connection,
    stream_id: str,
    expected_version: int,
    outgoing: Sequence[Outgoing],
) -> int:
    """Append to one stream at ``expected_version`` with outbox rows; returns the new version.

    Must run inside the caller's transaction, so events of several streams and
    their outbox rows commit together or not at all.
    """
    if not outgoing:
        return expected_version
    prev_hash: bytes | None = None
    if expected_version > 0:
        prev_hash = await conn.fetchval(
            "select hash from events where stream_id = $1 and version = $2",
            stream_id,
            expected_version,
        )
        if prev_hash is None:
            raise StreamConflict(stream_id, expected_version)
    event_rows = []
    outbox_rows = []
    version = expected_version
    for item in outgoing:
        env = item.envelope
        if env.subject != stream_id:
            raise ValueError(f"envelope subject {env.subject} is not stream {stream_id}")
        version += 1
        digest = chain_hash(prev_hash, env, version)
        event_rows.append(
            (
                stream_id, version, env.event_id, env.event_type, env.schema_version,
                json.dumps(env.data), env.correlation_id, env.causation_id, env.actor,
                env.time, prev_hash, digest,
            )
        )
        outbox_rows.append((env.event_id, item.topic, item.key))
        prev_hash = digest
    try:
        await conn.executemany(
            "insert into events (stream_id, version, event_id, event_type, schema_version, data,"
            " correlation_id, causation_id, actor, occurred_at, prev_hash, hash)"
            " values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)",
            event_rows,
        )
    except asyncpg.UniqueViolationError as exc:
        if "event_id" in (exc.constraint_name or ""):
            raise
        raise StreamConflict(stream_id, expected_version) from exc
    await conn.executemany(
        "insert into outbox (event_id, topic, key) values ($1, $2, $3)", outbox_rows
    )
    await conn.execute("select pg_notify($1, '')", OUTBOX_CHANNEL)
    return version


async def stream_version(conn: asyncpg.Connection, stream_id: str) -> int:
    """The current version of a stream (0 when it has no events)."""
    value = await conn.fetchval(
        "select coalesce(max(version), 0) from events where stream_id = $1", stream_id
    )
    return int(value)
