"""The contract's topics under a test's own prefix, made before and deleted after."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from schemas.topics import TOPICS, topic_configs


async def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    return admin


async def create_topics(bootstrap: str, prefix: str) -> None:
    """Every contract topic, named ``{prefix}{name}``, with its declared partitions and configs."""
    admin = await _admin(bootstrap)
    try:
        await admin.create_topics(
            [NewTopic(f"{prefix}{t.name}", t.partitions, 1, topic_configs=topic_configs(t)) for t in TOPICS]
        )
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete the contract topics made under ``prefix``."""
    admin = await _admin(bootstrap)
    try:
        await admin.delete_topics([f"{prefix}{t.name}" for t in TOPICS])
    finally:
        await admin.close()
