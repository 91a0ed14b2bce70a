"""Whether the consumer of booking.events has applied what Kafka held when the service started.

A reminder or a waiting text must not go for an appointment that moved or was cancelled
while the service was down: the sender waits, once after each start, until the consumer has
applied every record it acts on that was on the topic when it looked (at most a minute).
The records it lets pass (types it does not act on) store no offset, so the wait is for the
last record of a wanted type in each partition's unread tail, found by reading that tail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Set

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.common.kafka import partitions_of
from services.common.logging import get_logger

log = get_logger(__name__)
CATCH_UP_LIMIT_SECONDS = 60.0
# A tail longer than this is not read: the wait is then for the limit, or the whole tail.
LONGEST_TAIL = 200_000


async def _stored(pool: asyncpg.Pool, consumer: str, topic: str) -> dict[int, int]:
    rows = await pool.fetch(
        "select partition, next_offset from consumer_offsets where consumer = $1 and topic = $2",
        consumer,
        topic,
    )
    return {r["partition"]: r["next_offset"] for r in rows}


async def targets(bootstrap: str, topic: str, stored: dict[int, int], wants: Set[str]) -> dict[int, int]:
    """Per partition, the offset the consumer must reach: past the last wanted record of its unread tail."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await partitions_of(bootstrap, topic))]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        behind = {tp: end for tp, end in ends.items() if end > stored.get(tp.partition, 0)}
        if sum(end - stored.get(tp.partition, 0) for tp, end in behind.items()) > LONGEST_TAIL:
            return {tp.partition: end for tp, end in behind.items()}
        needed: dict[int, int] = {}
        if not behind:
            return needed
        consumer.assign(list(behind))
        for tp in behind:
            consumer.seek(tp, stored.get(tp.partition, 0))
        remaining = set(behind)
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            if not batch:
                break
            for tp, records in batch.items():
                for record in records:
                    kind = next((bytes(v).decode() for k, v in record.headers or () if k == "ce_type"), None)
                    if kind in wants:
                        needed[tp.partition] = record.offset + 1
                    if record.offset + 1 >= behind[tp]:
                        remaining.discard(tp)
        return needed
    finally:
        await consumer.stop()


async def wait_until_caught_up(
    pool: asyncpg.Pool,
    consumer: str,
    bootstrap: str,
    topic: str,
    wants: Set[str],
    limit: float = CATCH_UP_LIMIT_SECONDS,
) -> bool:
    """Wait until ``consumer`` has applied the topic's wanted records present on entry; False on time-out."""
    try:
        needed = await targets(bootstrap, topic, await _stored(pool, consumer, topic), wants)
    except Exception as exc:
        log.warning("could not read booking.events' tail; sending without waiting", error=type(exc).__name__)
        return False
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        stored = await _stored(pool, consumer, topic)
        if all(stored.get(p, 0) >= o for p, o in needed.items()):
            return True
        await asyncio.sleep(0.2)
    log.warning("booking.events not caught up in time; sending anyway", consumer=consumer)
    return False
