"""The two floors under the booking path: a raw Kafka produce, and a raw event-store append."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer

from bench.figures import RAW_APPEND, RAW_PRODUCE, Latency, Row
from bench.load import Meter, drive
from services.common.eventstore import Outgoing, StreamConflict, append, stream_version

# Appends to one stream only race when the same diary day comes round again while an earlier
# booking of it is still in flight; the plan makes that rare, so a few retries are plenty.
APPEND_ATTEMPTS = 20
PRODUCE_WARM_SECONDS = 3.0


@dataclass(frozen=True)
class Record:
    """A Kafka record ready to send: key, value and headers already serialised."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]

    @classmethod
    def of(cls, item: Outgoing) -> Record:
        """The record the outbox relay would publish for ``item``."""
        return cls(item.key.encode(), item.envelope.kafka_value(), item.envelope.kafka_headers())


async def raw_produce(
    bootstrap: str,
    topic: str,
    warm: Sequence[Record],
    measured: Sequence[Record],
    concurrency: int,
    meter: Meter,
) -> Row:
    """Baseline A: an idempotent acks=all producer, each worker awaiting every send_and_wait."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:

        async def send(record: Record) -> None:
            await producer.send_and_wait(topic, record.value, key=record.key, headers=record.headers)

        with _quiet("aiokafka.producer.sender"):
            # A broker started moments ago (by find_or_start_servers) is still being compiled by
            # its JIT: keep sending the warm-up records, to this throwaway topic, for a while.
            warm_until = time.monotonic() + PRODUCE_WARM_SECONDS
            while True:
                await drive(warm, concurrency, send)
                if time.monotonic() >= warm_until:
                    break
        start = meter.sample()
        latencies = await drive(measured, concurrency, send)
        usage = Meter.between(start, meter.sample())
    finally:
        await producer.stop()
    return Row(
        key=RAW_PRODUCE,
        label="A raw produce",
        count=len(measured),
        wall_seconds=usage.wall,
        latency=Latency.of(latencies),
        client_cpu=usage.client_cpu,
        server_cpu=usage.server_cpu,
    )


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    # A topic made seconds ago may answer NotLeaderForPartition for a moment even once its
    # metadata names leaders; the producer retries, and only the warm-up meets it.
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class _Appender:
    """Appends each booking's event to its diary-day stream, tracking stream versions."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._versions: dict[str, int] = {}
        self.conflicts = 0

    async def __call__(self, item: Outgoing) -> None:
        stream = item.envelope.subject
        for _ in range(APPEND_ATTEMPTS):
            try:
                # One transaction: the events row, its outbox row and the NOTIFY, as a command does.
                async with self._pool.acquire() as conn, conn.transaction():
                    version = await append(conn, stream, self._versions.get(stream, 0), [item])
            except StreamConflict:
                self.conflicts += 1
                async with self._pool.acquire() as conn:
                    self._versions[stream] = await stream_version(conn, stream)
                continue
            self._versions[stream] = version
            return
        raise RuntimeError(f"stream {stream} kept conflicting")


async def raw_append(
    pool: asyncpg.Pool,
    warm: Sequence[Outgoing],
    measured: Sequence[Outgoing],
    concurrency: int,
    meter: Meter,
) -> tuple[Row, int]:
    """Baseline B: services.common.eventstore.append in its own transaction; returns the row and conflicts."""
    appender = _Appender(pool)
    await drive(warm, concurrency, appender)
    start = meter.sample()
    latencies = await drive(measured, concurrency, appender)
    usage = Meter.between(start, meter.sample())
    row = Row(
        key=RAW_APPEND,
        label="B raw append",
        count=len(measured),
        wall_seconds=usage.wall,
        latency=Latency.of(latencies),
        client_cpu=usage.client_cpu,
        server_cpu=usage.server_cpu,
    )
    return row, appender.conflicts
