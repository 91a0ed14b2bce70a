"""Idempotent consumers on real Kafka and PostgreSQL: redelivery changes nothing; poison goes aside."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from schemas.envelope import Envelope
from schemas.topics import DEADLETTER
from services.common import kafka
from services.common.config import Settings
from services.common.consumer import IdempotentConsumer, PoisonRecord, Position
from tests.support.kafka_reader import header, read_topic

pytestmark = pytest.mark.integration
MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]
# A topic no other test publishes to, so this consumer sees only its own records.
TOPIC = "notifications.sms-receipts"


def envelope(n: int) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(),
        event_type="Counted",
        schema_version=1,
        source="urn:test",
        subject=f"counter-{n}",
        time=datetime.now(UTC),
        correlation_id=str(uuid.uuid4()),
        data={"n": n},
    )


@dataclass
class Rec:
    """A record as Kafka hands it over."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


async def count_into_table(conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
    if env.data.get("n") == 13:
        raise PoisonRecord("thirteen is not allowed here")
    await conn.execute("insert into counted (event_id, n) values ($1, $2)", env.event_id, env.data["n"])


async def prepare(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("create table counted (event_id uuid, n int)")


async def test_the_same_record_delivered_twice_is_applied_once(
    fresh_database: MakeDb, test_settings: Settings
) -> None:
    pool = await fresh_database("consumer_redelivery")
    await prepare(pool)
    broker = kafka.make_broker(test_settings.kafka_bootstrap, "test-consumer")
    await broker.start()
    publish = kafka.publisher(broker, test_settings.topic_prefix)
    consumer = IdempotentConsumer("counter", pool, count_into_table, publish)
    env = envelope(1)

    def rec(offset: int) -> Rec:
        return Rec(TOPIC, 0, offset, b"k", env.kafka_value(), env.kafka_headers())

    try:
        assert await consumer.handle(rec(5)) == "applied"
        assert await consumer.handle(rec(5)) == "duplicate"  # redelivered after a crash
        assert await consumer.handle(rec(9)) == "duplicate"  # republished by the relay
        assert await consumer.handle(rec(3)) == "duplicate"  # older than what was stored
    finally:
        await broker.stop()
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from counted") == 1
        assert (
            await conn.fetchval("select next_offset from consumer_offsets where consumer = 'counter'") == 10
        )


async def test_poison_records_go_to_the_dead_letter_topic_and_the_consumer_goes_on(
    fresh_database: MakeDb, test_settings: Settings
) -> None:
    pool = await fresh_database("consumer_poison")
    await prepare(pool)
    prefix = test_settings.topic_prefix
    broker = kafka.make_broker(test_settings.kafka_bootstrap, "test-poison")
    consumer = IdempotentConsumer(
        f"poison-{uuid.uuid4().hex[:6]}", pool, count_into_table, kafka.publisher(broker, prefix)
    )
    kafka.subscribe(broker, TOPIC, consumer, prefix)
    await broker.start()
    publish = kafka.publisher(broker, prefix)
    good, bad_rule = envelope(1), envelope(13)
    try:
        await publish(TOPIC, b"a", good.kafka_value(), good.kafka_headers())
        await publish(TOPIC, b"a", b"{not json", [("ce_id", b"x")])
        await publish(TOPIC, b"a", bad_rule.kafka_value(), bad_rule.kafka_headers())
        after = envelope(2)
        await publish(TOPIC, b"a", after.kafka_value(), after.kafka_headers())
        for _ in range(200):
            async with pool.acquire() as conn:
                if await conn.fetchval("select count(*) from counted") == 2:
                    break
            await asyncio.sleep(0.1)
    finally:
        await broker.stop()
    async with pool.acquire() as conn:
        assert sorted(r["n"] for r in await conn.fetch("select n from counted")) == [1, 2]
    dead = await read_topic(test_settings.kafka_bootstrap, f"{prefix}{DEADLETTER}", at_least=2)
    mine = [r for r in dead if header(r, "dlq_consumer") == consumer.name]
    assert len(mine) == 2
    unreadable, poisoned = mine
    assert unreadable.value == b"{not json"
    assert "unreadable record" in (header(unreadable, "dlq_reason") or "")
    assert header(unreadable, "dlq_source_topic") == f"{prefix}{TOPIC}"
    assert header(unreadable, "dlq_source_offset") is not None
    assert header(unreadable, "dlq_source_partition") is not None
    assert "thirteen" in (header(poisoned, "dlq_reason") or "")
    assert header(poisoned, "ce_id") == str(bad_rule.event_id)  # original headers kept
    assert unreadable.key == b"a"
