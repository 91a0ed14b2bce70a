"""Prometheus metrics shared by the machinery every service runs.

Most are counted where the work is done (the relay, the consumers, the HTTP edge). Where each
consumer stands is read instead, every few seconds, by ``PositionWatch``: the positions stored
in PostgreSQL (``consumer_offsets``, written with each apply) beside the partitions' end offsets
on Kafka, so nothing is added to a record's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import Counter, Gauge, Histogram
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.logging import get_logger

log = get_logger(__name__)

RELAY_PUBLISHED = Counter("outbox_published_total", "Outbox rows published to Kafka by the relay", ["topic"])
RELAY_BACKLOG = Gauge("outbox_backlog_rows", "Committed outbox rows not yet published")
RELAY_LAG = Gauge(
    "outbox_lag_seconds", "Age of the oldest committed outbox row not yet published (0 when none)"
)
RELAY_DELAY = Histogram(
    "outbox_commit_to_publish_seconds",
    "Time from an outbox row's insert to its publication",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CONSUMED = Counter(
    "consumer_records_total", "Records handled by a consumer", ["consumer", "topic", "outcome"]
)
DEADLETTERED = Counter(
    "consumer_deadlettered_total", "Records sent to the dead-letter topic", ["consumer", "topic"]
)
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_seconds", "HTTP request latency", ["method", "route"])

# Where each consumer stands, read every few seconds (never per record) by ``PositionWatch``.
CONSUMER_POSITION = Gauge(
    "consumer_position_offset",
    "The next offset a consumer (a read model's feed) applies, as stored with its changes in PostgreSQL",
    ["consumer", "topic", "partition"],
)
CONSUMER_LAG = Gauge(
    "consumer_lag_records",
    "Records on a partition the consumer has not handled yet: the end offset less its position",
    ["consumer", "topic", "partition"],
)
TOPIC_END = Gauge(
    "topic_end_offset", "The offset the next record of a partition will get", ["topic", "partition"]
)
POSITIONS_READ = Gauge(
    "consumer_positions_read_timestamp_seconds",
    "When the positions and lags above were last read (Unix time)",
)
# The periodic checkpoints of a service's own database (services.common.checkpoints).
CHECKPOINT_HELD = Gauge(
    "checkpoint_chains_held_timestamp_seconds",
    "When the last periodic walk found every hash chain of the database holding (Unix time)",
    ["database"],
)
CHECKPOINT_BROKEN = Gauge(
    "checkpoint_broken_streams",
    "Streams the last periodic walk found broken (0: every chain holds)",
    ["database"],
)


class MetricsSettings(BaseSettings):
    """How often positions are read (APPOINTMENTS_METRICS_POSITIONS_EVERY_SECONDS; 0: never)."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_", extra="ignore")

    # Prometheus's default scrape interval: reading oftener shows nobody anything newer, and an idle
    # stack's every worker would ask its database (tests/integration/test_idle_stack.py).
    metrics_positions_every_seconds: float = Field(default=15.0, ge=0)


@dataclass(frozen=True)
class Watched:
    """A consumer to watch: its name (the key of its stored positions), its Kafka group and wire topic."""

    consumer: str
    group: str
    topic: str


@dataclass(frozen=True)
class Standing:
    """Where one consumer stands on one partition."""

    consumer: str
    topic: str
    partition: int
    position: int | None  # the next offset stored in PostgreSQL (None: nothing applied yet)
    end: int
    lag: int


def standings(
    watched: Sequence[Watched],
    stored: dict[tuple[str, str, int], int],
    committed: dict[tuple[str, str, int], int],
    starts: dict[tuple[str, int], int],
    ends: dict[tuple[str, int], int],
) -> list[Standing]:
    """Each watched consumer's position and lag on every partition of its topic.

    The lag counts from the furthest of: the position stored with the consumer's changes, the
    offset its group committed to Kafka (a consumer that lets records of other types pass stores
    no position for them, but commits past them now and then) and the partition's first kept
    record (a record gone with retention cannot be behind anyone).
    """
    found = []
    for w in watched:
        for (topic, partition), end in sorted(ends.items()):
            if topic != w.topic:
                continue
            position = stored.get((w.consumer, topic, partition))
            handled = max(
                position or 0,
                committed.get((w.group, topic, partition), 0),
                starts.get((topic, partition), 0),
            )
            found.append(Standing(w.consumer, topic, partition, position, end, max(0, end - handled)))
    return found


class PositionWatch:
    """Reads, every few seconds, where a service's consumers stand, into the gauges above."""

    def __init__(self, pool: asyncpg.Pool, bootstrap: str, watched: Sequence[Watched]) -> None:
        self._pool = pool
        self._bootstrap = bootstrap
        self._watched = list(watched)
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None

    async def _clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient]:
        if self._consumer is None or self._admin is None:
            await self.close()
            consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
            try:
                await consumer.start()
                await admin.start()
            except BaseException:
                await consumer.stop()
                await admin.close()
                raise
            self._consumer, self._admin = consumer, admin
        return self._consumer, self._admin

    async def close(self) -> None:
        """Stop the Kafka clients (they are made again on the next read)."""
        consumer, admin, self._consumer, self._admin = self._consumer, self._admin, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()

    async def read(self) -> list[Standing]:
        """Read every watched consumer's positions and its topic's offsets once; set the gauges."""
        if not self._watched:
            return []
        consumer, admin = await self._clients()
        topics = sorted({w.topic for w in self._watched})
        described = await admin.describe_topics(topics)
        partitions = [
            TopicPartition(d["topic"], p["partition"]) for d in described for p in d.get("partitions", [])
        ]
        ends = {(tp.topic, tp.partition): o for tp, o in (await consumer.end_offsets(partitions)).items()}
        starts = {
            (tp.topic, tp.partition): o for tp, o in (await consumer.beginning_offsets(partitions)).items()
        }
        committed: dict[tuple[str, str, int], int] = {}
        for group in sorted({w.group for w in self._watched}):
            offsets = await admin.list_consumer_group_offsets(group)
            committed.update(((group, tp.topic, tp.partition), m.offset) for tp, m in offsets.items())
        rows = await self._pool.fetch(
            "select consumer, topic, partition, next_offset from consumer_offsets where consumer = any($1)",
            sorted({w.consumer for w in self._watched}),
        )
        stored = {(r["consumer"], r["topic"], r["partition"]): r["next_offset"] for r in rows}
        found = standings(self._watched, stored, committed, starts, ends)
        for (topic, partition), end in ends.items():
            TOPIC_END.labels(topic, str(partition)).set(end)
        for s in found:
            labels = (s.consumer, s.topic, str(s.partition))
            CONSUMER_LAG.labels(*labels).set(s.lag)
            if s.position is not None:
                CONSUMER_POSITION.labels(*labels).set(s.position)
        POSITIONS_READ.set(time.time())
        return found

    async def run(self, every: float) -> None:
        """Read every ``every`` seconds until cancelled; a server not answering is tried again next time."""
        failing = False
        try:
            while True:
                try:
                    await self.read()
                    if failing:
                        log.info("consumer positions read again")
                    failing = False
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # The gauges keep their last values; the read time shows how old they are.
                    # Said once per outage, not every few seconds while it lasts.
                    if not failing:
                        log.warning("consumer positions not read", error=type(exc).__name__)
                    failing = True
                    with contextlib.suppress(Exception):
                        await self.close()
                await asyncio.sleep(every)
        finally:
            with contextlib.suppress(Exception):
                await self.close()
