"""Consumer lag and positions on /metrics, read from PostgreSQL and Kafka, on the real servers.

The watch reads where a consumer stands (``consumer_offsets``, stored with its changes) beside
each partition's end offset: records published and not yet applied are lag; once applied the
lag is 0 and the position is the end offset, partition by partition.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import REGISTRY

from schemas.envelope import Envelope
from schemas.topics import BOOKING_EVENTS
from services.common.config import Settings
from services.common.consumer import IdempotentConsumer, Position
from services.common.db import drop_database
from services.common.metrics import PositionWatch, Watched
from tests.support.kafka_reader import read_topic
from tests.support.services import service
from tests.support.topics import create_topics, delete_topics

pytestmark = pytest.mark.integration
MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]


async def eventually(check: Callable[[], Awaitable[str | None]], what: str, wait_seconds: float = 60) -> str:
    """What ``check`` returns once it returns something; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise TimeoutError(f"never seen: {what}")


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


@pytest.fixture
async def two_partitions(test_settings: Settings) -> AsyncIterator[str]:
    """A two-partition topic of this test only (its wire name)."""
    name = f"{test_settings.topic_prefix}lag-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=test_settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 2, 1)])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()


async def nothing_dead(topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
    raise AssertionError("no record of this test is poison")


async def applied(conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
    await conn.execute("insert into counted (n) values ($1)", env.data["n"])


def sample(name: str, consumer: str, topic: str, partition: int) -> float | None:
    labels = {"consumer": consumer, "topic": topic, "partition": str(partition)}
    return REGISTRY.get_sample_value(name, labels)


async def test_lag_counts_what_is_published_and_not_applied_and_positions_are_the_stored_offsets(
    fresh_database: MakeDb, test_settings: Settings, two_partitions: str
) -> None:
    pool = await fresh_database("positions")
    async with pool.acquire() as conn:
        await conn.execute("create table counted (n int)")
    name = f"lag-{uuid.uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=test_settings.kafka_bootstrap)
    await producer.start()
    try:
        for n, partition in enumerate([0, 0, 0, 1, 1]):
            env = envelope(n)
            await producer.send_and_wait(
                two_partitions, env.kafka_value(), key=b"k", partition=partition, headers=env.kafka_headers()
            )
    finally:
        await producer.stop()
    watch = PositionWatch(pool, test_settings.kafka_bootstrap, [Watched(name, name, two_partitions)])
    try:
        before = {s.partition: s for s in await watch.read()}
        assert {p: (s.lag, s.position, s.end) for p, s in before.items()} == {
            0: (3, None, 3),
            1: (2, None, 2),
        }
        assert sample("consumer_lag_records", name, two_partitions, 0) == 3
        assert sample("consumer_lag_records", name, two_partitions, 1) == 2
        assert sample("consumer_position_offset", name, two_partitions, 0) is None  # nothing applied yet

        consumer = IdempotentConsumer(name, pool, applied, nothing_dead)
        records = await read_topic(test_settings.kafka_bootstrap, two_partitions, at_least=5)
        assert await consumer.handle_batch(records) == ["applied"] * 5

        after = {s.partition: s for s in await watch.read()}
    finally:
        await watch.close()
    assert {p: (s.lag, s.position, s.end) for p, s in after.items()} == {0: (0, 3, 3), 1: (0, 2, 2)}
    async with pool.acquire() as conn:
        stored = await conn.fetch(
            "select partition, next_offset from consumer_offsets where consumer = $1 order by partition", name
        )
    assert [(r["partition"], r["next_offset"]) for r in stored] == [(0, 3), (1, 2)]
    for partition, end in ((0, 3), (1, 2)):
        assert sample("consumer_lag_records", name, two_partitions, partition) == 0
        assert sample("consumer_position_offset", name, two_partitions, partition) == end
        assert (
            REGISTRY.get_sample_value(
                "topic_end_offset", {"topic": two_partitions, "partition": str(partition)}
            )
            == end
        )


def metric(text: str, name: str, **labels: str) -> float | None:
    """One sample of a Prometheus text exposition, by name and labels (all of them)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)\{(.*)\} (\S+)", line)
        if match is None or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2]))
        if found == labels:
            return float(match[3])
    return None


async def test_a_running_service_shows_its_consumers_lag_positions_and_dead_letters_on_metrics(
    test_settings: Settings, tmp_path: Path
) -> None:
    """The roster, on topics of its own: a record its consumer puts aside still moves its position."""
    run = uuid.uuid4().hex[:6]
    prefix, suffix = f"lag-{run}.", f"{test_settings.db_suffix}lag{run}"
    await create_topics(test_settings.kafka_bootstrap, prefix)
    topic = f"{prefix}{BOOKING_EVENTS}"
    roster = service(
        "roster",
        tmp_path,
        APPOINTMENTS_TOPIC_PREFIX=prefix,
        APPOINTMENTS_DB_SUFFIX=suffix,
        APPOINTMENTS_METRICS_POSITIONS_EVERY_SECONDS="0.2",
    )
    producer = AIOKafkaProducer(bootstrap_servers=test_settings.kafka_bootstrap)
    try:
        await roster.start()
        await producer.start()
        # A record of the type the roster acts on that cannot be read: it goes to the dead letters.
        for _ in range(2):
            await producer.send_and_wait(
                topic, b"{not json", key=b"k", partition=4, headers=[("ce_type", b"CountyReferenceLoaded")]
            )

        async with httpx.AsyncClient(base_url=roster.url) as client:

            async def settled() -> str | None:
                text = (await client.get("/metrics")).text
                position = metric(
                    text, "consumer_position_offset", consumer="roster-county", topic=topic, partition="4"
                )
                return text if position == 2 else None

            text = await eventually(settled, "the roster's consumer position on /metrics")
        assert metric(text, "consumer_lag_records", consumer="roster-county", topic=topic, partition="4") == 0
        for partition in range(6):  # every partition of booking.events, read or not
            assert (
                metric(
                    text,
                    "consumer_lag_records",
                    consumer="roster-county",
                    topic=topic,
                    partition=str(partition),
                )
                == 0
            )
        assert metric(text, "topic_end_offset", topic=topic, partition="4") == 2
        assert metric(text, "consumer_deadlettered_total", consumer="roster-county", topic=topic) == 2
    finally:
        await producer.stop()
        roster.stop()
        await delete_topics(test_settings.kafka_bootstrap, prefix)
        own = test_settings.model_copy(update={"db_suffix": suffix})
        await drop_database(own.database_url("roster"))
