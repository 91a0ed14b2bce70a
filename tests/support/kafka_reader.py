"""Read a topic back from the real broker, for assertions."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer


async def read_topic(bootstrap: str, topic: str, *, at_least: int, wait_seconds: float = 30.0) -> list[Any]:
    """Every record of ``topic`` from the beginning, waiting until ``at_least`` arrived or time ran out."""
    # Without a group id aiokafka assigns itself every partition of the topic.
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        records: list[Any] = []
        deadline = time.monotonic() + wait_seconds
        quiet_until = 0.0
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            got = [r for rs in batch.values() for r in rs]
            records.extend(got)
            if len(records) >= at_least:
                # Linger briefly, so a duplicate that would follow is seen too.
                if not got and time.monotonic() > quiet_until:
                    break
                if got:
                    quiet_until = time.monotonic() + 0.5
        return records
    finally:
        await consumer.stop()


def header(record: Any, name: str) -> str | None:
    """One header of a record, decoded."""
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode()
    return None
