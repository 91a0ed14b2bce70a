"""The local three-node KRaft cluster (APPOINTMENTS_KAFKA_BROKERS=3): replicated, and it holds a loss.

`appointments up --brokers 3` starts three combined broker+controller nodes from the same
Maven-assembled jars; the contract topics get three replicas and min.insync.replicas 2. With
the leader of a booking.events partition SIGKILLed, the relay's producer (idempotent, acks=all)
goes on writing through the new leader, and a read_committed reader finds every acknowledged
record exactly once. With two of three nodes gone, no write is acknowledged at all.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from schemas.topics import BOOKING_EVENTS, TOPICS
from services.common.kafka import relay_producer
from tests.support.cluster import NODES, kafka_cluster, leader_of

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster() -> Iterator[tuple[str, Path]]:
    """A cluster of three nodes of this test's own, started as `up --brokers 3` starts it."""
    with kafka_cluster(NODES) as found:
        yield found


def kill_node(state: Path, node_id: int) -> None:
    pid = int((state / "run" / f"kafka-{node_id}.pid").read_text())
    os.kill(pid, signal.SIGKILL)


async def send_batch(producer: AIOKafkaProducer, keys: range) -> None:
    futures = [
        await producer.send(BOOKING_EVENTS, f"v{k}".encode(), key=f"k{k}".encode(), partition=0) for k in keys
    ]
    await asyncio.gather(*futures)


async def committed_keys(bootstrap: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        BOOKING_EVENTS, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
        enable_auto_commit=False, isolation_level="read_committed",
    )  # fmt: skip
    await consumer.start()
    try:
        keys: list[bytes] = []
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=500)
            keys += [r.key for rs in batch.values() for r in rs if r.key is not None]
        return keys
    finally:
        await consumer.stop()


async def test_three_replicated_nodes_lose_no_acknowledged_record_when_a_leader_dies(
    cluster: tuple[str, Path],
) -> None:
    bootstrap, state = cluster
    assert len(bootstrap.split(",")) == NODES
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([t.name for t in TOPICS])
        assert {len(p["replicas"]) for t in described for p in t["partitions"]} == {3}
        configs = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, BOOKING_EVENTS)])
        entries = {e[0]: e[1] for e in configs[0].resources[0][4]}
        assert (entries["min.insync.replicas"], entries["unclean.leader.election.enable"]) == ("2", "false")
    finally:
        await admin.close()

    assert acknowledged_alone(bootstrap) is True  # the check below can tell an acknowledgement
    producer = relay_producer(bootstrap, "cluster-test")
    await producer.start()
    try:
        await send_batch(producer, range(0, 200))
        leader = await leader_of(bootstrap, BOOKING_EVENTS, 0)
        kill_node(state, leader)
        await send_batch(producer, range(200, 400))  # through the partition's new leader
    finally:
        await producer.stop()
    keys = await committed_keys(bootstrap)
    assert keys.count(b"alone") == 1  # the control's one write
    mine = [k for k in keys if k != b"alone"]
    assert sorted(mine) == sorted(f"k{k}".encode() for k in range(400)), "lost or doubled records"
    assert await leader_of(bootstrap, BOOKING_EVENTS, 0) != leader

    # One node of three left: fewer in sync than min.insync.replicas, so nothing is acknowledged.
    kill_node(state, next(n for n in range(1, NODES + 1) if n != leader))
    assert acknowledged_alone(bootstrap) is False


ALONE = """
import asyncio, os, sys
from aiokafka import AIOKafkaProducer
async def main():
    producer = AIOKafkaProducer(bootstrap_servers=sys.argv[1], enable_idempotence=True, acks="all")
    try:
        async with asyncio.timeout(20):
            await producer.start()
            await (await producer.send("booking.events", b"alone", key=b"alone", partition=0))
    except (Exception, TimeoutError):
        os._exit(0)  # refused or never acknowledged; stop() would wait for the retries forever
    os._exit(3)
asyncio.run(main())
"""


def acknowledged_alone(bootstrap: str) -> bool:
    """Whether a write with acks=all is acknowledged now (in a process of its own, ended after)."""
    done = subprocess.run([sys.executable, "-c", ALONE, bootstrap], capture_output=True, timeout=60)
    assert done.returncode in (0, 3), done.stderr.decode()[-2000:]
    return done.returncode == 3
