"""The servers fixture gives a Kafka and a PostgreSQL fit for the contract."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from cli.stack.topics import personal_retention_ms
from schemas.topics import TOPICS
from tests.support.servers import Servers


@pytest.fixture
async def admin(servers: Servers) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=servers.kafka_bootstrap)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def scratch_topic(admin: AIOKafkaAdminClient) -> AsyncIterator[str]:
    # A throwaway topic: the contract topics may belong to a running local stack.
    name = f"test.servers.{uuid.uuid4().hex}"
    await admin.create_topics([NewTopic(name=name, num_partitions=1, replication_factor=1)])
    try:
        yield name
    finally:
        await admin.delete_topics([name])


async def test_kafka_returns_an_idempotent_acks_all_record_to_a_consumer(
    servers: Servers, scratch_topic: str
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=servers.kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            scratch_topic, b'{"hello": "kafka"}', key=b"stream-1", headers=[("ce_id", b"1")]
        )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        scratch_topic,
        bootstrap_servers=servers.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()

    assert (record.offset, record.key, record.value) == (sent.offset, b"stream-1", b'{"hello": "kafka"}')
    assert list(record.headers) == [("ce_id", b"1")]


async def test_every_contract_topic_exists_with_its_declared_partitions(
    admin: AIOKafkaAdminClient,
) -> None:
    described = await admin.describe_topics([spec.name for spec in TOPICS])

    partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
    assert partitions == {spec.name: spec.partitions for spec in TOPICS}


async def _retention(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, str]:
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None}) for name in names]
    )
    return {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}["retention.ms"]
        for response in responses
        for resource in response.resources
    }


async def test_topics_holding_callers_in_clear_keep_records_for_the_configured_time_only(
    admin: AIOKafkaAdminClient,
) -> None:
    personal = [spec.name for spec in TOPICS if spec.personal]
    assert await _retention(admin, personal) == dict.fromkeys(personal, str(personal_retention_ms()))


async def test_event_topics_keep_their_records_forever(admin: AIOKafkaAdminClient) -> None:
    kept = [spec.name for spec in TOPICS if spec.keep_forever]
    assert await _retention(admin, kept) == dict.fromkeys(kept, "-1")


async def test_postgresql_answers_select_version(servers: Servers) -> None:
    connection = await asyncpg.connect(f"{servers.pg_url}/postgres")
    try:
        version = await connection.fetchval("select version()")
    finally:
        await connection.close()

    assert str(version).startswith("PostgreSQL")
