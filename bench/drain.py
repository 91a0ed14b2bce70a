"""The floor under the projections: a raw aiokafka drain of a whole topic, records read and dropped."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.figures import RAW_DRAIN, Row
from bench.load import Meter

# A drain that stops getting records before the topic's end has met a broken broker, not a slow one.
STALL_SECONDS = 30.0


async def drain(bootstrap: str, topic: str, partitions: int) -> int:
    """Read every record of ``topic`` from the beginning to its end now; returns how many."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        count = 0
        stalled_since = time.monotonic()
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            if batch:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since > STALL_SECONDS:
                raise RuntimeError(f"the drain of {topic} got nothing for {STALL_SECONDS:.0f} s")
            for tp, records in batch.items():
                count += len(records)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return count
    finally:
        await consumer.stop()


async def raw_drain(bootstrap: str, topic: str, partitions: int, meter: Meter) -> Row:
    """Baseline for the projections: one warm-up drain, then a measured one (consumer start included)."""
    await drain(bootstrap, topic, partitions)
    start = meter.sample()
    count = await drain(bootstrap, topic, partitions)
    usage = Meter.between(start, meter.sample())
    return Row(
        key=RAW_DRAIN,
        label="raw getmany drain",
        count=count,
        wall_seconds=usage.wall,
        latency=None,
        client_cpu=usage.client_cpu,
        server_cpu=usage.server_cpu,
    )
