"""Idempotent consumers: apply each record once, in the same transaction as its change.

A record is skipped when its offset is below what this consumer stored for its
partition (a redelivery after a crash) or when its event id was applied before
(the relay republished it). A record that cannot be read or applied is a poison
message: it goes to the dead-letter topic with the reason, its offset is stored,
and the consumer goes on. Errors that are not the record's fault (the database
is down) propagate, so the record is not acknowledged and comes back.

In batch mode (Marten's async daemon) a whole Kafka fetch is applied in one
transaction that ends with one position row per partition, so a crash rolls the
whole batch back and it comes again. When a record in it is poison the batch is
rolled back and each half is handled on its own, down to the poison record alone,
which is handled by itself and put aside.

The projections use batches: they only write their own read models, and a backlog
catches up a fetch per transaction. Booking's consumers (roster changes, control-room
requests) stay one record per transaction on purpose: each record decides a command
on diary days the HTTP path books at the same time, so a batch would hold those days
for the whole fetch and one lost race (``StreamConflict``) would undo and redo every
request in it; their traffic is a trickle, so a batch would save them nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import asyncpg
from asyncpg import exceptions as pg
from pydantic import ValidationError

# Every published event registered, whichever of them this service itself imports.
from schemas import booking, notifications, reference, roster  # noqa: F401
from schemas.base import UnknownEvent
from schemas.envelope import Envelope
from schemas.topics import DEADLETTER
from services.common import metrics
from services.common.db import is_outage
from services.common.eventstore import StreamConflict
from services.common.logging import correlation_id, get_logger

log = get_logger(__name__)


class PoisonRecord(Exception):
    """The record itself is unusable (malformed, or breaks a rule); dead-letter it."""


class Transient(Exception):
    """Not the record's fault and likely to pass (a server not up, a race lost): retry it."""


def is_transient(exc: BaseException) -> bool:
    """Whether an error should leave the record unacknowledged, to come back, not go aside."""
    # A server down, stopped under us or busy, or a race lost: none of it is the record's doing.
    return is_outage(exc) or isinstance(
        exc, Transient | StreamConflict | pg.SerializationError | pg.DeadlockDetectedError
    )


class Record(Protocol):
    """The parts of a Kafka record a consumer needs (aiokafka's ConsumerRecord has them)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


@dataclass(frozen=True)
class Position:
    """Where a record came from."""

    topic: str
    partition: int
    offset: int


# Applies one event to the read model inside the given transaction.
Apply = Callable[[asyncpg.Connection, Envelope, Position], Awaitable[None]]
# Applies several events, in the order given, inside the given transaction (the batch mode).
ApplyBatch = Callable[[asyncpg.Connection, Sequence[tuple[Envelope, Position]]], Awaitable[None]]
# Publishes a record: (topic, key, value, headers).
Publish = Callable[[str, bytes | None, bytes, list[tuple[str, bytes]]], Awaitable[None]]
Partition = tuple[str, int]
_UNREADABLE = (ValueError, ValidationError, json.JSONDecodeError)


@dataclass(frozen=True)
class Subscription:
    """A consumer (also its Kafka group), its contract topic, how it applies, and in batches how."""

    consumer: str
    topic: str
    apply: Apply
    apply_batch: ApplyBatch | None = None
    # The event types it acts on; others are let pass with no transaction (None: every type).
    wants: frozenset[str] | None = None
    # Whether records must be published events (a registered type and version, valid data).
    contract: bool = True
    # How long a fetch may wait at the broker to gather more (batch mode; 0: hand over at once).
    patience_ms: int = 0


@dataclass(frozen=True)
class Readable:
    """A record of a batch that could be read, with its envelope and where it came from."""

    record: Record
    envelope: Envelope
    position: Position


def position_of(record: Record) -> Position:
    """Where a record came from."""
    return Position(record.topic, record.partition, record.offset)


def fields_of(exc: ValidationError) -> str:
    """Which fields a model refused and why, never the values sent (they may be personal data)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)[:5]
    )


def why_unreadable(exc: Exception) -> str:
    """Why a record could not be read, in words that repeat nothing it held."""
    return f"unreadable record: {fields_of(exc) if isinstance(exc, ValidationError) else exc}"


def contract_breach(envelope: Envelope) -> str | None:
    """Why an event is outside the published contract (type, version, or data its model refuses)."""
    try:
        envelope.domain_event()
    except UnknownEvent as exc:
        return f"outside the contract: {exc}"
    except ValidationError as exc:
        return f"outside the contract: {envelope.event_type} v{envelope.schema_version}: {fields_of(exc)}"
    return None


def split(
    records: Iterable[Record], contract: bool = False
) -> tuple[list[Readable], list[tuple[Record, str]]]:
    """The records that read as envelopes (of the contract, if asked), and the others with why not."""
    readable: list[Readable] = []
    unreadable: list[tuple[Record, str]] = []
    for record in records:
        try:
            envelope = Envelope.from_kafka(record.headers or (), record.value or b"")
        except _UNREADABLE as exc:
            unreadable.append((record, why_unreadable(exc)))
            continue
        breach = contract_breach(envelope) if contract else None
        if breach is not None:
            unreadable.append((record, breach))
        else:
            readable.append(Readable(record, envelope, position_of(record)))
    return readable, unreadable


def unseen(readable: Iterable[Readable], stored: Mapping[Partition, int]) -> list[Readable]:
    """Records at or past the stored offset of their partition, the first of each event id only."""
    ids: set[UUID] = set()
    kept: list[Readable] = []
    for r in readable:
        if r.position.offset < stored.get((r.position.topic, r.position.partition), 0):
            continue
        if r.envelope.event_id not in ids:
            ids.add(r.envelope.event_id)
            kept.append(r)
    return kept


def next_offsets(records: Iterable[Record]) -> dict[Partition, int]:
    """One position per partition of the batch: just past its last record."""
    offsets: dict[Partition, int] = {}
    for r in records:
        key = (r.topic, r.partition)
        offsets[key] = max(offsets.get(key, 0), r.offset + 1)
    return offsets


class IdempotentConsumer:
    """Wraps an ``Apply`` with offset and event-id tracking and dead-lettering, one by one or in batches."""

    def __init__(
        self,
        name: str,
        pool: asyncpg.Pool,
        apply: Apply,
        publish: Publish,
        apply_batch: ApplyBatch | None = None,
        wants: frozenset[str] | None = None,
        contract: bool = False,
    ) -> None:
        self.name = name
        self._pool = pool
        self._apply = apply
        self._publish = publish
        self._apply_batch = apply_batch
        self._wants = wants
        # Whether every record must be a published (type, version) whose data its model accepts.
        self._contract = contract

    def _passes_by(self, record: Record) -> bool:
        """A readable record of a type this consumer does not act on: nothing to apply or keep."""
        if self._wants is None:
            return False
        kind = next((bytes(v) for k, v in record.headers or () if k == "ce_type"), None)
        return kind is not None and kind.decode(errors="replace") not in self._wants

    async def handle(self, record: Record) -> str:
        """Handle one record; returns the outcome: applied, duplicate, passed or deadlettered."""
        if self._passes_by(record):
            metrics.CONSUMED.labels(self.name, record.topic, "passed").inc()
            return "passed"
        position = position_of(record)
        try:
            envelope = Envelope.from_kafka(record.headers or (), record.value or b"")
        except _UNREADABLE as exc:
            return await self._deadletter(record, why_unreadable(exc))
        breach = contract_breach(envelope) if self._contract else None
        if breach is not None:
            return await self._deadletter(record, breach)  # never applied, stored or acted on
        token = correlation_id.set(envelope.correlation_id)
        try:
            outcome = await self._apply_once(envelope, position)
        except Exception as exc:
            if is_transient(exc):
                raise
            # Anything else would block the partition for ever: put it aside, with why.
            why = fields_of(exc) if isinstance(exc, ValidationError) else str(exc)
            outcome = await self._deadletter(record, f"{type(exc).__name__}: {why}")
        finally:
            correlation_id.reset(token)
        metrics.CONSUMED.labels(self.name, record.topic, outcome).inc()
        return outcome

    async def handle_batch(self, records: Sequence[Record]) -> list[str]:
        """Handle a fetch in one transaction; returns each record's outcome, in order."""
        if self._wants is not None:
            # Only what this consumer acts on reaches the database; a fetch of nothing else
            # costs no transaction. Redelivered, the others pass by again, doing nothing.
            kept = [r for r in records if not self._passes_by(r)]
            if len(kept) < len(records):
                handled = iter(await self.handle_batch_of(kept))
                return ["passed" if self._passes_by(r) else next(handled) for r in records]
        return await self.handle_batch_of(records)

    async def handle_batch_of(self, records: Sequence[Record]) -> list[str]:
        """Handle a fetch (every record one this consumer acts on) in one transaction."""
        if not records:
            return []
        try:
            outcomes = await self._commit_batch(records)
        except Exception as exc:
            if is_transient(exc):
                raise  # nothing of the batch was kept: it all comes back
            if len(records) == 1:
                return [await self.handle(records[0])]  # the poison one: put it aside, with why
            # Some record in it is poison: each half goes again on its own, so the clean
            # records still go a batch at a time and the poison one ends up alone.
            log.info(
                "batch refused; handling each half on its own",
                consumer=self.name,
                records=len(records),
                error=type(exc).__name__,
            )
            half = len(records) // 2
            return [*await self.handle_batch_of(records[:half]), *await self.handle_batch_of(records[half:])]
        tally = Counter((record.topic, outcome) for record, outcome in zip(records, outcomes, strict=True))
        for (topic, outcome), count in tally.items():
            metrics.CONSUMED.labels(self.name, topic, outcome).inc(count)
        return outcomes

    async def _commit_batch(self, records: Sequence[Record]) -> list[str]:
        readable, unreadable = split(records, self._contract)
        ends = next_offsets(records)
        outcomes: dict[Position, str] = {}
        async with self._pool.acquire() as conn, conn.transaction():
            stored = await self._stored_offsets(conn, ends)
            candidates = unseen(readable, stored)
            claimed = await self._claim(conn, [r.envelope.event_id for r in candidates])
            fresh = [r for r in candidates if r.envelope.event_id in claimed]
            if fresh:
                await self._apply_all(conn, fresh)
            outcomes.update((r.position, "applied") for r in fresh)
            for record, reason in unreadable:
                if record.offset >= stored.get((record.topic, record.partition), 0):
                    # Sent before the commit: a crash now sends it again, never loses it.
                    await self._send_deadletter(record, reason)
                    outcomes[position_of(record)] = "deadlettered"
            await self._advance(conn, ends)
        return [outcomes.get(position_of(r), "duplicate") for r in records]

    async def _apply_all(self, conn: asyncpg.Connection, fresh: Sequence[Readable]) -> None:
        if self._apply_batch is not None:
            await self._apply_batch(conn, [(r.envelope, r.position) for r in fresh])
            return
        for r in fresh:
            token = correlation_id.set(r.envelope.correlation_id)
            try:
                await self._apply(conn, r.envelope, r.position)
            finally:
                correlation_id.reset(token)

    async def _apply_once(self, envelope: Envelope, position: Position) -> str:
        async with self._pool.acquire() as conn, conn.transaction():
            stored = await self._stored_offsets(conn, [(position.topic, position.partition)])
            if position.offset < stored.get((position.topic, position.partition), 0):
                return "duplicate"
            first_time = bool(await self._claim(conn, [envelope.event_id]))
            if first_time:
                # A poison event raises out of here and rolls the whole transaction back.
                await self._apply(conn, envelope, position)
            await self._advance(conn, {(position.topic, position.partition): position.offset + 1})
            return "applied" if first_time else "duplicate"

    async def _stored_offsets(
        self, conn: asyncpg.Connection, partitions: Iterable[Partition]
    ) -> dict[Partition, int]:
        keys = sorted(partitions)
        # Locked in one order, so two members briefly sharing partitions wait rather than deadlock.
        rows = await conn.fetch(
            "select topic, partition, next_offset from consumer_offsets where consumer = $1"
            " and (topic, partition) in (select * from unnest($2::text[], $3::int[]))"
            " order by topic, partition for update",
            self.name,
            [topic for topic, _ in keys],
            [partition for _, partition in keys],
        )
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    async def _claim(self, conn: asyncpg.Connection, event_ids: Sequence[UUID]) -> set[UUID]:
        """Record the event ids as applied; returns those that were not applied before."""
        if not event_ids:
            return set()
        rows = await conn.fetch(
            "insert into applied_events (consumer, event_id) select $1, unnest($2::uuid[])"
            " on conflict do nothing returning event_id",
            self.name,
            list(event_ids),
        )
        return {r["event_id"] for r in rows}

    async def _advance(self, conn: asyncpg.Connection, offsets: Mapping[Partition, int]) -> None:
        keys = sorted(offsets)
        await conn.execute(
            "insert into consumer_offsets (consumer, topic, partition, next_offset)"
            " select $1, * from unnest($2::text[], $3::int[], $4::bigint[])"
            " on conflict (consumer, topic, partition) do update set next_offset ="
            " greatest(consumer_offsets.next_offset, excluded.next_offset)",
            self.name,
            [topic for topic, _ in keys],
            [partition for _, partition in keys],
            [offsets[key] for key in keys],
        )

    async def _deadletter(self, record: Record, reason: str) -> str:
        await self._send_deadletter(record, reason)
        async with self._pool.acquire() as conn, conn.transaction():
            await self._advance(conn, next_offsets([record]))
        return "deadlettered"

    async def _send_deadletter(self, record: Record, reason: str) -> None:
        headers = [(k, bytes(v)) for k, v in (record.headers or ())]
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
        ]
        await self._publish(DEADLETTER, record.key, record.value or b"", headers)
        metrics.DEADLETTERED.labels(self.name, record.topic).inc()
        log.warning(
            "record dead-lettered",
            consumer=self.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )
