"""The outbox relay on real PostgreSQL and Kafka: nothing lost, nothing skipped, streams in order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from schemas.envelope import Envelope
from services.common import kafka
from services.common.config import Settings
from services.common.eventstore import Outgoing, StreamAppend, StreamConflict, append_streams, load_stream
from services.common.relay import OutboxRelay
from tests.support.kafka_reader import header, read_topic

pytestmark = pytest.mark.integration
TOPIC = "booking.events"

MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]


def outgoing(stream_id: str, n: int = 0) -> Outgoing:
    env = Envelope(
        event_id=uuid.uuid4(),
        event_type="TestHappened",
        schema_version=1,
        source="urn:test",
        subject=stream_id,
        time=datetime.now(UTC),
        correlation_id=str(uuid.uuid4()),
        data={"n": n},
    )
    return Outgoing(env, TOPIC, stream_id)


async def append(
    conn: asyncpg.Connection,
    stream_id: str,
    events: list[Outgoing],
    version: int = 0,
    prev_hash: bytes | None = None,
) -> None:
    """Append to a stream at ``version`` (a new stream unless told), with its outbox rows."""
    await append_streams(conn, [StreamAppend(stream_id, version, prev_hash, events)])


async def relay_for(pool: asyncpg.Pool, settings: Settings) -> tuple[OutboxRelay, Any]:
    broker = kafka.relay_producer(settings.kafka_bootstrap, "test-relay")
    await broker.start()
    return OutboxRelay(pool, kafka.sender(broker, settings.topic_prefix), "urn:test", 0.05), broker


async def test_a_row_committed_out_of_order_is_still_published(
    fresh_database: MakeDb, test_settings: Settings
) -> None:
    pool = await fresh_database("outbox_order")
    relay, broker = await relay_for(pool, test_settings)
    early, late = f"early-{uuid.uuid4()}", f"late-{uuid.uuid4()}"
    try:
        # Transaction A takes the lower outbox id and stays open...
        conn_a = await pool.acquire()
        tx_a = conn_a.transaction()
        await tx_a.start()
        await append(conn_a, early, [outgoing(early)])
        # ...while transaction B takes a higher id and commits first.
        async with pool.acquire() as conn_b, conn_b.transaction():
            await append(conn_b, late, [outgoing(late)])
        assert await relay.publish_pending() == 1  # only B is visible yet
        await tx_a.commit()
        await pool.release(conn_a)
        assert await relay.publish_pending() == 1  # A is not skipped for having a lower id
        assert await relay.publish_pending() == 0
    finally:
        await broker.stop()
    records = await read_topic(
        test_settings.kafka_bootstrap, test_settings.topic(TOPIC), at_least=2, wait_seconds=20
    )
    keys = [r.key.decode() for r in records if r.key.decode() in (early, late)]
    assert sorted(keys) == sorted([early, late])


async def test_racing_writers_keep_each_stream_in_version_order_on_kafka(
    fresh_database: MakeDb, test_settings: Settings
) -> None:
    pool = await fresh_database("outbox_streams")
    streams = [f"race-{uuid.uuid4()}" for _ in range(3)]

    async def writer(stream_id: str, n: int) -> None:
        while True:
            async with pool.acquire() as conn, conn.transaction():
                tip = (await load_stream(conn, stream_id, "urn:test"))[-1:]
                version, prev_hash = (tip[0].version, tip[0].hash) if tip else (0, None)
                try:
                    await append(conn, stream_id, [outgoing(stream_id, n)], version, prev_hash)
                    return
                except StreamConflict:
                    pass
            await asyncio.sleep(0)

    relay, broker = await relay_for(pool, test_settings)
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.gather(*(writer(s, n) for s in streams for n in range(15)))
    finally:
        await asyncio.sleep(0.5)
        relay.stop()
        await running
        await broker.stop()
    records = await read_topic(
        test_settings.kafka_bootstrap, test_settings.topic(TOPIC), at_least=45, wait_seconds=30
    )
    for stream in streams:
        mine = [r for r in records if r.key.decode() == stream]
        async with pool.acquire() as conn:
            stored = await load_stream(conn, stream, "urn:test")
        assert [header(r, "ce_id") for r in mine] == [str(e.envelope.event_id) for e in stored]
        assert len(mine) == 15


async def test_a_failed_publish_leaves_rows_for_the_next_pass(
    fresh_database: MakeDb, test_settings: Settings
) -> None:
    pool = await fresh_database("outbox_failure")
    stream = f"fail-{uuid.uuid4()}"
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, stream, [outgoing(stream, 1), outgoing(stream, 2)])

    async def broken_send(*_: object) -> Awaitable[Any]:
        raise ConnectionError("broker gone")

    with pytest.raises(ConnectionError):
        await OutboxRelay(pool, broken_send, "urn:test", 0.05).publish_pending()
    relay, broker = await relay_for(pool, test_settings)
    try:
        assert await relay.publish_pending() == 2
    finally:
        await broker.stop()


async def test_the_loser_of_a_race_on_one_stream_gets_a_conflict(fresh_database: MakeDb) -> None:
    pool = await fresh_database("store_race")
    stream = f"slot-{uuid.uuid4()}"
    results = await asyncio.gather(
        *(_append_at_zero(pool, stream) for _ in range(10)), return_exceptions=True
    )
    assert sum(1 for r in results if r is None) == 1
    assert all(isinstance(r, StreamConflict) for r in results if r is not None)


async def _append_at_zero(pool: asyncpg.Pool, stream: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, stream, [outgoing(stream)])


async def test_stored_events_cannot_be_altered(fresh_database: MakeDb) -> None:
    pool = await fresh_database("store_immutable")
    stream = f"imm-{uuid.uuid4()}"
    async with pool.acquire() as conn:
        async with conn.transaction():
            await append(conn, stream, [outgoing(stream)])
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("update events set data = '{}'::jsonb where stream_id = $1", stream)
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("delete from events where stream_id = $1", stream)


async def test_rows_already_on_kafka_before_a_crash_are_not_published_twice(
    fresh_database: MakeDb, test_settings: Settings
) -> None:
    pool = await fresh_database("outbox_reconcile")
    stream = f"crash-{uuid.uuid4()}"
    async with pool.acquire() as conn, conn.transaction():
        await append(conn, stream, [outgoing(stream, 1), outgoing(stream, 2)])
    relay, broker = await relay_for(pool, test_settings)
    try:
        await relay.publish_pending()
        # The crash: published, but the marks never committed.
        async with pool.acquire() as conn:
            await conn.execute("update outbox set published_at = null")
        recovering = OutboxRelay(
            pool,
            kafka.sender(broker, test_settings.topic_prefix),
            "urn:test",
            0.05,
            kafka.recent_ids(test_settings.kafka_bootstrap, test_settings.topic_prefix),
        )
        assert await recovering.reconcile() == 2
        assert await recovering.publish_pending() == 0
    finally:
        await broker.stop()
    records = await read_topic(test_settings.kafka_bootstrap, test_settings.topic(TOPIC), at_least=1)
    assert len([r for r in records if r.key.decode() == stream]) == 2
