"""The two floors under the booking path: a raw Kafka produce, and a raw event-store append."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer

from bench.figures import RAW_APPEND, RAW_PRODUCE, Latency, Row
from bench.load import Meter, drive
from bench.stage import fresh_topic_retries_quiet
from services.common.eventstore import Outgoing, StreamAppend, StreamConflict, append_streams

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

        with fresh_topic_retries_quiet():
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


@dataclass(frozen=True)
class Tip:
    """Where a stream stands: its version and the hash of its last event."""

    stream_id: str
    version: int = 0
    hash: bytes | None = None


async def append_one(conn: asyncpg.Connection, stream: Tip, item: Outgoing) -> Tip:
    """The store's own append of one event at the stream's tip, as a command's unit of work makes it.

    One statement: the events row (hash chained from the tip's), its outbox row, the NOTIFY.
    The only call into the store's write API: adapt it here when that API changes.
    """
    [done] = await append_streams(conn, [StreamAppend(stream.stream_id, stream.version, stream.hash, [item])])
    return Tip(done.stream_id, done.version, done.hash)


class _Appender:
    """Appends each booking's event to its diary-day stream, tracking each stream's tip."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._tips: dict[str, Tip] = {}
        self.conflicts = 0

    async def __call__(self, item: Outgoing) -> None:
        stream = item.envelope.subject
        for _ in range(APPEND_ATTEMPTS):
            tip = self._tips.get(stream, Tip(stream))
            try:
                # One transaction per booking, as a command's unit of work commits.
                async with self._pool.acquire() as conn, conn.transaction():
                    self._tips[stream] = await append_one(conn, tip, item)
                return
            except StreamConflict:
                self.conflicts += 1
                async with self._pool.acquire() as conn:
                    row = await conn.fetchrow(
                        "select version, hash from events where stream_id = $1 order by version desc limit 1",
                        stream,
                    )
                self._tips[stream] = Tip(stream, row["version"], row["hash"]) if row else Tip(stream)
        raise RuntimeError(f"stream {stream} kept conflicting")


async def raw_append(
    pool: asyncpg.Pool,
    warm: Sequence[Outgoing],
    measured: Sequence[Outgoing],
    concurrency: int,
    meter: Meter,
) -> tuple[Row, int]:
    """Baseline B: the store's append (``append_one``), a transaction each; the row and conflicts."""
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
