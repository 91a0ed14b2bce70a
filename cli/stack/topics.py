"""The contract topics: create those missing on the broker."""

from __future__ import annotations

import asyncio
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from schemas.topics import TOPICS, topic_configs

from .state import StackError

# Kafka error codes ensure_topics must tell apart.
_TOPIC_ALREADY_EXISTS = 36
# A freshly started KRaft broker answers before it is unfenced; these clear within seconds.
_RETRIABLE_TOPIC_ERRORS = {5, 7, 38, 41, 51}  # leader n/a, timeout, replication factor, ...


async def create_topics(bootstrap: str, retry_for: float = 60.0) -> list[str]:
    """Create the contract topics missing on the broker; returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        replicas = max(1, min(3, len(cluster.get("brokers", []))))
        pending = {spec.name: spec for spec in TOPICS}
        created: list[str] = []
        deadline = time.monotonic() + retry_for
        while pending:
            response = await admin.create_topics(
                [
                    NewTopic(
                        name=spec.name,
                        num_partitions=spec.partitions,
                        replication_factor=replicas,
                        topic_configs=topic_configs(spec),
                    )
                    for spec in pending.values()
                ]
            )
            retry = {}
            for name, code, *rest in response.topic_errors:
                if code == 0:
                    created.append(name)
                elif code == _TOPIC_ALREADY_EXISTS:
                    pass
                elif code in _RETRIABLE_TOPIC_ERRORS and time.monotonic() < deadline:
                    retry[name] = pending[name]
                else:
                    reason = rest[0] if rest and rest[0] else f"error code {code}"
                    raise StackError(f"creating topic {name} failed: {reason}")
            pending = retry
            if pending:
                await asyncio.sleep(0.5)
        return created
    finally:
        await admin.close()


def ensure_topics(bootstrap: str) -> list[str]:
    """Create every topic of schemas.topics.TOPICS that is missing (sync wrapper)."""
    return asyncio.run(create_topics(bootstrap))
