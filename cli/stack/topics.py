"""The contract topics: create those missing on the broker."""

from __future__ import annotations

import asyncio
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from schemas.topics import TOPICS, topic_configs
from services.common.config import settings

from .state import StackError

# Kafka error codes ensure_topics must tell apart.
_TOPIC_ALREADY_EXISTS = 36
# A freshly started KRaft broker answers before it is unfenced; these clear within seconds.
_RETRIABLE_TOPIC_ERRORS = {5, 7, 38, 41, 51}  # leader n/a, timeout, replication factor, ...


def personal_retention_ms() -> int:
    """The configured retention of the topics holding callers' details in clear, in milliseconds."""
    return int(settings().personal_topic_retention_hours * 3600 * 1000)


async def create_topics(bootstrap: str, retry_for: float = 60.0) -> list[str]:
    """Create the contract topics missing on the broker, and set every one's retention; returns those created.

    Topics that exist already get their configs set again, so a retention changed in the
    configuration (or by a new version) reaches a running broker.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        created = await _create_missing(admin, retry_for)
        await admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, spec.name, topic_configs(spec, personal_retention_ms())
                )
                for spec in TOPICS
            ]
        )
        return created
    finally:
        await admin.close()


async def _create_missing(admin: AIOKafkaAdminClient, retry_for: float) -> list[str]:
    """Create the contract topics the broker lacks, retrying while a fresh broker settles."""
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
                    topic_configs=topic_configs(spec, personal_retention_ms()),
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


def ensure_topics(bootstrap: str) -> list[str]:
    """Create every topic of schemas.topics.TOPICS that is missing (sync wrapper)."""
    return asyncio.run(create_topics(bootstrap))
