"""Idempotent consumers: apply each record once, in the same transaction as its change.

A record is skipped when its offset is below what this consumer stored for its
partition (a redelivery after a crash) or when its event id was applied before
(the relay republished it). A record that cannot be read or applied is a poison
message: it goes to the dead-letter topic with the reason, its offset is stored,
and the consumer goes on. Errors that are not the record's fault (the database
is down) propagate, so the record is not acknowledged and comes back.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from pydantic import ValidationError

from schemas.envelope import Envelope
from schemas.topics import DEADLETTER
from services.common import metrics
from services.common.eventstore import StreamConflict
from services.common.logging import correlation_id, get_logger

log = get_logger(__name__)


class PoisonRecord(Exception):
    """The record itself is unusable (malformed, or breaks a rule); dead-letter it."""


class Transient(Exception):
    """Not the record's fault and likely to pass (a server not up, a race lost): retry it."""


def is_transient(exc: BaseException) -> bool:
    """Whether an error should leave the record unacknowledged, to come back, not go aside."""
    return isinstance(
        exc,
        Transient
        | StreamConflict
        | OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError,
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
# Publishes a record: (topic, key, value, headers).
Publish = Callable[[str, bytes | None, bytes, list[tuple[str, bytes]]], Awaitable[None]]


class IdempotentConsumer:
    """Wraps an ``Apply`` with offset and event-id tracking and dead-lettering."""

    def __init__(self, name: str, pool: asyncpg.Pool, apply: Apply, publish: Publish) -> None:
        self.name = name
        self._pool = pool
        self._apply = apply
        self._publish = publish

    async def handle(self, record: Record) -> str:
        """Handle one record; returns the outcome: applied, duplicate or deadlettered."""
        position = Position(record.topic, record.partition, record.offset)
        try:
            envelope = Envelope.from_kafka(record.headers or (), record.value or b"")
        except (ValueError, ValidationError, json.JSONDecodeError) as exc:
            return await self._deadletter(record, position, f"unreadable record: {exc}")
        token = correlation_id.set(envelope.correlation_id)
        try:
            outcome = await self._apply_once(envelope, position)
        except Exception as exc:
            if is_transient(exc):
                raise
            # Anything else would block the partition for ever: put it aside, with why.
            outcome = await self._deadletter(record, position, f"{type(exc).__name__}: {exc}")
        finally:
            correlation_id.reset(token)
        metrics.CONSUMED.labels(self.name, record.topic, outcome).inc()
        return outcome

    async def _apply_once(self, envelope: Envelope, position: Position) -> str:
        async with self._pool.acquire() as conn, conn.transaction():
            stored = await conn.fetchval(
                "select next_offset from consumer_offsets"
                " where consumer = $1 and topic = $2 and partition = $3 for update",
                self.name,
                position.topic,
                position.partition,
            )
            if stored is not None and position.offset < stored:
                return "duplicate"
            first_time = await conn.fetchval(
                "insert into applied_events (consumer, event_id) values ($1, $2)"
                " on conflict do nothing returning true",
                self.name,
                envelope.event_id,
            )
            if first_time:
                # A poison event raises out of here and rolls the whole transaction back.
                await self._apply(conn, envelope, position)
            await self._store_offset(conn, position)
            return "applied" if first_time else "duplicate"

    async def _store_offset(self, conn: asyncpg.Connection, position: Position) -> None:
        await conn.execute(
            "insert into consumer_offsets (consumer, topic, partition, next_offset)"
            " values ($1, $2, $3, $4) on conflict (consumer, topic, partition)"
            " do update set next_offset ="
            " greatest(consumer_offsets.next_offset, excluded.next_offset)",
            self.name,
            position.topic,
            position.partition,
            position.offset + 1,
        )

    async def _deadletter(self, record: Record, position: Position, reason: str) -> str:
        headers = [(k, bytes(v)) for k, v in (record.headers or ())]
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_source_topic", position.topic.encode()),
            ("dlq_source_partition", str(position.partition).encode()),
            ("dlq_source_offset", str(position.offset).encode()),
        ]
        await self._publish(DEADLETTER, record.key, record.value or b"", headers)
        async with self._pool.acquire() as conn, conn.transaction():
            await self._store_offset(conn, position)
        metrics.DEADLETTERED.labels(self.name, position.topic).inc()
        log.warning(
            "record dead-lettered",
            consumer=self.name,
            topic=position.topic,
            partition=position.partition,
            offset=position.offset,
            reason=reason,
        )
        return "deadlettered"
