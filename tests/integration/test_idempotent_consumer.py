"""Idempotent consumers on real Kafka and PostgreSQL: redelivery changes nothing; poison goes aside.

One record at a time, and a whole fetch per transaction (batch mode).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from schemas.envelope import Envelope
from schemas.topics import DEADLETTER
from services.common import kafka
from services.common.config import Settings
from services.common.consumer import IdempotentConsumer, PoisonRecord, Position, Transient
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
    # The topic is the session's, and its other tests' records reach this new group too (and go
    # aside: they hold no "n"): this test's own two are told apart by their ids.
    unreadable_id = str(uuid.uuid4())
    try:
        await publish(TOPIC, b"a", good.kafka_value(), good.kafka_headers())
        await publish(TOPIC, b"a", b"{not json", [("ce_id", unreadable_id.encode())])
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
    ours = {unreadable_id, str(bad_rule.event_id)}
    mine = [r for r in dead if header(r, "dlq_consumer") == consumer.name and header(r, "ce_id") in ours]
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


# --- Batch mode: a whole fetch per transaction ----------------------------------------------


@asynccontextmanager
async def private_topic(settings: Settings) -> AsyncIterator[str]:
    """A two-partition topic of one test only (unprefixed name; created under the run's prefix)."""
    name = f"batch-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{settings.topic_prefix}{name}", 2, 1)])
        yield name
        await admin.delete_topics([f"{settings.topic_prefix}{name}"])
    finally:
        await admin.close()


@pytest.fixture
async def own_topic(test_settings: Settings) -> AsyncIterator[str]:
    """A topic no other test publishes to."""
    async with private_topic(test_settings) as name:
        yield name


async def publish_all(settings: Settings, topic: str, records: list[tuple[bytes, bytes, Any]]) -> None:
    broker = kafka.make_broker(settings.kafka_bootstrap, "test-batch-producer")
    await broker.start()
    try:
        publish = kafka.publisher(broker, settings.topic_prefix)
        for key, value, headers in records:
            await publish(topic, key, value, headers)
    finally:
        await broker.stop()


def as_record(env: Envelope, key: bytes = b"a") -> tuple[bytes, bytes, Any]:
    return key, env.kafka_value(), env.kafka_headers()


async def stored_offsets(pool: asyncpg.Pool, consumer: str) -> dict[tuple[str, int], int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "select topic, partition, next_offset from consumer_offsets where consumer = $1", consumer
        )
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def test_a_batch_with_a_duplicate_and_a_poison_record_in_the_middle_applies_the_good_ones_once(
    fresh_database: MakeDb, test_settings: Settings, own_topic: str
) -> None:
    pool = await fresh_database("consumer_batch_poison")
    await prepare(pool)
    prefix = test_settings.topic_prefix
    one, two, thirteen, three = envelope(1), envelope(2), envelope(13), envelope(3)
    unreadable = (b"a", b"{not json", [("ce_id", b"x")])
    # The relay republished "one" (same event id); "thirteen" breaks the apply's rule.
    sent = [as_record(one), as_record(two), as_record(one), as_record(thirteen), unreadable, as_record(three)]
    await publish_all(test_settings, own_topic, sent)
    records = await read_topic(test_settings.kafka_bootstrap, f"{prefix}{own_topic}", at_least=len(sent))
    assert [r.value for r in records] == [value for _, value, _ in sent]  # one key: one partition, in order
    broker = kafka.make_broker(test_settings.kafka_bootstrap, "test-batch-poison")
    await broker.start()
    name = f"batch-poison-{uuid.uuid4().hex[:6]}"
    consumer = IdempotentConsumer(name, pool, count_into_table, kafka.publisher(broker, prefix))
    try:
        outcomes = await consumer.handle_batch(records)
        again = await consumer.handle_batch(records)  # redelivered whole: nothing happens twice
    finally:
        await broker.stop()
    assert outcomes == ["applied", "applied", "duplicate", "deadlettered", "deadlettered", "applied"]
    assert again == ["duplicate"] * len(records)
    async with pool.acquire() as conn:
        assert [r["n"] for r in await conn.fetch("select n from counted order by n")] == [1, 2, 3]
    last = records[-1]
    assert await stored_offsets(pool, name) == {(last.topic, last.partition): last.offset + 1}
    dead = await read_topic(test_settings.kafka_bootstrap, f"{prefix}{DEADLETTER}", at_least=2)
    mine = {header(r, "dlq_source_offset"): r for r in dead if header(r, "dlq_consumer") == name}
    poisoned, garbled = records[3], records[4]
    assert set(mine) == {str(poisoned.offset), str(garbled.offset)}  # each once, not again
    for source, reason in ((poisoned, "thirteen is not allowed here"), (garbled, "unreadable record")):
        letter = mine[str(source.offset)]
        assert reason in (header(letter, "dlq_reason") or "")
        assert header(letter, "dlq_source_topic") == f"{prefix}{own_topic}"
        assert header(letter, "dlq_source_partition") == str(source.partition)
        assert letter.value == source.value
    assert header(mine[str(poisoned.offset)], "ce_id") == str(thirteen.event_id)


async def no_deadletters(topic: str, *_: Any) -> None:
    raise AssertionError(f"nothing here is poison, yet something went to {topic}")


class CrashOnce:
    """A batch apply that counts into the table, then dies once mid-batch the way it is told to."""

    def __init__(self, crash: str) -> None:
        self.crash, self.calls, self.crashed = crash, 0, False

    async def __call__(self, conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Position]]) -> None:
        self.calls += 1
        for env, pos in batch:
            await count_into_table(conn, env, pos)
            if not self.crashed and env.data["n"] == 107:
                self.crashed = True
                if self.crash == "transient error":
                    raise Transient("the database blinked")
                # The server ends this session: the transaction is gone, whatever was written.
                await conn.execute("select pg_terminate_backend(pg_backend_pid())")


async def consume_all(
    pool: asyncpg.Pool, settings: Settings, topic: str, consumer: IdempotentConsumer, total: int
) -> None:
    """Run a batch subscription until the consumer has stored positions past all ``total`` records."""
    broker = kafka.make_broker(settings.kafka_bootstrap, f"test-{consumer.name}")
    kafka.subscribe_batch(broker, topic, consumer, settings.topic_prefix)
    await broker.start()
    try:
        for _ in range(300):
            if sum((await stored_offsets(pool, consumer.name)).values()) >= total:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{consumer.name} never got through its {total} records")
    finally:
        await broker.stop()


async def read_model(pool: asyncpg.Pool) -> list[tuple[uuid.UUID, int]]:
    async with pool.acquire() as conn:
        return [
            (r["event_id"], r["n"]) for r in await conn.fetch("select event_id, n from counted order by n")
        ]


@pytest.mark.parametrize("crash", ["transient error", "connection killed"])
async def test_a_batch_that_dies_mid_way_comes_again_from_kafka_and_leaves_what_a_clean_run_leaves(
    crash: str, fresh_database: MakeDb, test_settings: Settings, own_topic: str
) -> None:
    envelopes = [envelope(n) for n in range(101, 121)]
    # Two keys spread the records over both partitions; one record republished by the relay.
    sent = [as_record(env, b"odd" if env.data["n"] % 2 else b"even") for env in envelopes]
    sent.append(as_record(envelopes[4], b"odd"))
    await publish_all(test_settings, own_topic, sent)
    clean_pool, crash_pool = await fresh_database("batch_clean"), await fresh_database("batch_crash")
    await prepare(clean_pool)
    await prepare(crash_pool)
    tag = uuid.uuid4().hex[:6]

    async def per_record(conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Position]]) -> None:
        for env, pos in batch:
            await count_into_table(conn, env, pos)

    clean = IdempotentConsumer(f"clean-{tag}", clean_pool, count_into_table, no_deadletters, per_record)
    crashing = CrashOnce(crash)
    dying = IdempotentConsumer(f"crash-{tag}", crash_pool, count_into_table, no_deadletters, crashing)
    await consume_all(clean_pool, test_settings, own_topic, clean, len(sent))
    await consume_all(crash_pool, test_settings, own_topic, dying, len(sent))
    assert crashing.crashed and crashing.calls >= 2  # it died, and Kafka handed the batch over again
    assert await read_model(crash_pool) == await read_model(clean_pool)
    assert [n for _, n in await read_model(crash_pool)] == list(range(101, 121))
    assert await stored_offsets(crash_pool, dying.name) == await stored_offsets(clean_pool, clean.name)
