"""The event store: append-only streams with optimistic concurrency, and the outbox beside them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from schemas.envelope import Envelope

OUTBOX_CHANNEL = "outbox"
# The events table's unique (stream, version): two units appending at one version.
STREAM_VERSION_KEY = "events_stream_id_version_key"


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


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the form an event's data is hashed (and stored) in."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# The hashed content is the canonical JSON of an object of these fields (keys in sorted order).
# Written out rather than built as a dict and serialised whole, so an appended event's data,
# serialised once for its column, is not serialised a second time for its hash.
_HASHED = (
    '{{"actor":{actor},"causation_id":{causation_id},"correlation_id":{correlation_id},'
    '"data":{data},"event_id":{event_id},"event_type":{event_type},"schema_version":{schema_version},'
    '"stream_id":{stream_id},"time":{time},"version":{version}}}'
)


def chain_hash(
    prev_hash: bytes | None, envelope: Envelope, version: int, data_json: str | None = None
) -> bytes:
    """The hash that links an event to its predecessor in the stream.

    It is the SHA-256 of the previous hash followed by the canonical JSON of the event's
    stream, version, id, type, schema version, data, correlation, causation, actor and time.
    ``data_json``: the data's canonical JSON, when the caller has it already.
    """
    dump = json.dumps
    content = _HASHED.format(
        actor=dump(envelope.actor),
        causation_id=dump(envelope.causation_id),
        correlation_id=dump(envelope.correlation_id),
        data=canonical_json(envelope.data) if data_json is None else data_json,
        event_id=dump(str(envelope.event_id)),
        event_type=dump(envelope.event_type),
        schema_version=dump(envelope.schema_version),
        stream_id=dump(envelope.subject),
        time=dump(envelope.time.isoformat()),
        version=dump(version),
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


# Each stream's tail through the (stream, version) index, however few events the planner
# thinks the table holds: a plain join's generic plan, cached on a connection while the
# table was young, kept scanning every event of the store for a one-stream load.
STREAM_TAILS = (
    "select tail.* from unnest($1::text[], $3::integer[]) as wanted(s, after) cross join lateral"
    f" ({_SELECT} where stream_id = wanted.s and version > wanted.after order by version) as tail"
    " order by tail.stream_id, tail.version"
)


async def load_streams(
    conn: asyncpg.Connection, after: Mapping[str, int], source: str
) -> dict[str, list[StoredEvent]]:
    """The events of several streams past a known version each, in one query (stream -> events)."""
    rows = await conn.fetch(STREAM_TAILS, list(after), source, list(after.values()))
    found: dict[str, list[StoredEvent]] = {stream: [] for stream in after}
    for row in rows:
        found[row["stream_id"]].append(_row_to_event(row))
    return found


@dataclass(frozen=True)
class StreamAppend:
    """New events for one stream, decided at ``expected_version`` whose event hashed to ``prev_hash``."""

    stream_id: str
    expected_version: int
    prev_hash: bytes | None
    outgoing: Sequence[Outgoing]


@dataclass(frozen=True)
class Appended:
    """Where a stream stands after an append: its version and the hash of its last event."""

    stream_id: str
    version: int
    hash: bytes | None


@dataclass(frozen=True)
class Companion:
    """A write made in the same statement as an append (a view's rows that go with the events).

    ``sql`` is the body of a data-modifying CTE whose parameters are numbered from $1 for
    ``args``. A unique violation on one of ``conflicts_on`` (constraint names) means another
    unit got there first: a conflict, and the unit decides again.
    """

    sql: str
    args: Sequence[Any]
    conflicts_on: frozenset[str] = frozenset()


_PARAMETER = re.compile(r"\$(\d+)")


def _renumbered(sql: str, offset: int) -> str:
    return _PARAMETER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


def _with_companions(statement: str, columns: list[list[Any]], companions: Sequence[Companion]) -> str:
    """``statement`` (which starts with "with ") with each companion as one more CTE; args appended."""
    ctes = []
    for n, companion in enumerate(companions):
        ctes.append(f"companion_{n} as ({_renumbered(companion.sql, len(columns))})")
        columns.extend(companion.args)
    if not ctes:
        return statement
    head, _, rest = statement.partition("with ")
    return f"{head}with {', '.join(ctes)}, {rest}"


# Events, outbox rows and the relay's wake-up in one statement: one round trip per command.
# The outbox's foreign key is checked at the end of the statement, when both inserts are done.
# The main query reads new_events, so the events go in first and a racing unit meets the
# stream's version before it meets a companion's constraint.
_APPEND = f"""
with new_events as (
    insert into events (stream_id, version, event_id, event_type, schema_version, data,
                        correlation_id, causation_id, actor, occurred_at, prev_hash, hash)
    select s, v, id, t, sv, d::jsonb, c, ca, a, at, ph, h
    from unnest($1::text[], $2::integer[], $3::uuid[], $4::text[], $5::integer[], $6::text[],
                $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::bytea[], $12::bytea[])
         as e(s, v, id, t, sv, d, c, ca, a, at, ph, h)
    returning event_id
), new_outbox as (
    insert into outbox (event_id, topic, key)
    select id, topic, key from unnest($3::uuid[], $13::text[], $14::text[]) as o(id, topic, key)
)
select pg_notify('{OUTBOX_CHANNEL}', '') from (select count(*) from new_events) as done
"""


def _rows(appends: Sequence[StreamAppend]) -> tuple[list[list[Any]], list[Appended]]:
    columns: list[list[Any]] = [[] for _ in range(14)]
    after: list[Appended] = []
    for batch in appends:
        prev, version = batch.prev_hash, batch.expected_version
        for item in batch.outgoing:
            env = item.envelope
            if env.subject != batch.stream_id:
                raise ValueError(f"envelope subject {env.subject} is not stream {batch.stream_id}")
            version += 1
            data = canonical_json(env.data)
            digest = chain_hash(prev, env, version, data)
            row = (
                batch.stream_id, version, env.event_id, env.event_type, env.schema_version,
                data, env.correlation_id, env.causation_id, env.actor, env.time,
                prev, digest, item.topic, item.key,
            )  # fmt: skip
            for column, value in zip(columns, row, strict=True):
                column.append(value)
            prev = digest
        after.append(Appended(batch.stream_id, version, prev))
    return columns, after


async def append_streams(
    conn: asyncpg.Connection, appends: Sequence[StreamAppend], companions: Sequence[Companion] = ()
) -> list[Appended]:
    """Append to several streams at their expected versions, with outbox rows, in one statement.

    ``companions`` are written in the same statement. One statement is atomic by itself:
    a caller with no other write needs no transaction around it. A stream that moved past
    its expected version raises StreamConflict (the unique (stream, version) refuses the
    insert), and so does a companion's named constraint.
    """
    columns, after = _rows(appends)
    if not columns[0] and not companions:
        return after
    statement = _APPEND if columns[0] else "with unused as (select 1) select 1"
    if not columns[0]:
        columns = []
    sql = _with_companions(statement, columns, companions)
    try:
        await conn.execute(sql, *columns)
    except asyncpg.UniqueViolationError as exc:
        name = exc.constraint_name or ""
        companion = next((c for c in companions if name in c.conflicts_on), None)
        if companion is not None:
            raise StreamConflict(name, 0) from exc
        if name != STREAM_VERSION_KEY:
            raise
        moved = _moved_stream(exc, appends)
        raise StreamConflict(moved.stream_id, moved.expected_version) from exc
    return after


def _moved_stream(exc: asyncpg.UniqueViolationError, appends: Sequence[StreamAppend]) -> StreamAppend:
    detail = getattr(exc, "detail", "") or ""
    return next((a for a in appends if f"({a.stream_id}," in detail), appends[0])
