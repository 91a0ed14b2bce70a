"""Kafka at the edge of every service: one FastStream broker, idempotent, acks=all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy

from services.common.consumer import IdempotentConsumer, is_transient

# aiokafka refreshes a topic's leaders only every metadata_max_age_ms (5 minutes by default) when
# a leader dies abruptly: its producer retries the dead node (NodeNotReadyError) until then
# (aio-libs/aiokafka#642, #1133). A cluster moves leadership within seconds; so do we.
METADATA_MAX_AGE_MS = 5000


# A consumer whose process died holds its partitions until the group stops hearing from it: the
# broker's least session (group.min.session.timeout.ms, 6 s) rather than aiokafka's 10 s, so a
# restarted instance, or the others, take them over sooner; a heartbeat every 2 s keeps three
# chances within it.
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 2000


def bootstrap_list(bootstrap: str) -> list[str]:
    """``host:port,host:port`` as a list of addresses.

    FastStream takes a string as one address (it wraps it in a list, which aiokafka then
    does not split), so a cluster's comma-separated bootstrap reached nobody.
    """
    return [address.strip() for address in bootstrap.split(",") if address.strip()]


def make_broker(bootstrap: str, client_id: str) -> KafkaBroker:
    """A broker whose producer is idempotent and waits for every in-sync replica."""
    return KafkaBroker(
        bootstrap_list(bootstrap),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
        logger=None,
    )


def _str_headers(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    return {name: value.decode() for name, value in headers}


def relay_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """The outbox relay's own producer: idempotent, acks=all, like the broker's.

    aiokafka directly, not FastStream's publish: the relay already holds each record's
    bytes and headers, and FastStream's middleware chain per record was most of its cost.
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=f"{client_id}-relay",
        enable_idempotence=True,
        acks="all",
        linger_ms=1,
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
    )


def sender(producer: AIOKafkaProducer, prefix: str = "") -> Any:
    """The relay's send: queue one record and hand back the future of its acknowledgement."""

    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Awaitable[Any]:
        future: asyncio.Future[Any] = await producer.send(f"{prefix}{topic}", value, key=key, headers=headers)
        return future

    return send


def publisher(broker: KafkaBroker, prefix: str = "") -> Any:
    """A publish-and-wait function (dead letters, command results)."""

    async def publish(topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        h = _str_headers(headers)
        await broker.publish(
            value, f"{prefix}{topic}", key=key, headers=h, correlation_id=h.get("correlation_id")
        )

    return publish


# Where a consumer stands is kept in PostgreSQL, in the transaction that applies each record
# (consumer_offsets): Kafka's committed offset is only where a restarted consumer starts
# reading, and what it reads again is skipped there. So it is committed at most this often,
# not after every record: a commit per record was an offset write on the broker per record.
COMMIT_EVERY_SECONDS = 5.0


class CommitThrottle:
    """Says when an applied record (or batch) should also be committed to Kafka: now and then."""

    def __init__(
        self, every: float = COMMIT_EVERY_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every = every
        self._clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        """Whether to commit now (the first time, then once ``every`` seconds have passed)."""
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            return False
        self._last = now
        return True


async def settle(message: KafkaMessage, handled: Awaitable[object], throttle: CommitThrottle) -> None:
    """Wait for a record (or batch) to be handled; rewind on failure, commit now and then on success.

    A failure rewinds every partition in it to its first record, so it all comes again and
    nothing after it is applied first (what NACK_ON_ERROR did, without its commit per record).
    """
    try:
        await handled
    except BaseException:
        await message.nack()
        raise
    if throttle.due():
        await message.ack()  # commits what this consumer has read: all of it applied by now


async def _undecoded(message: StreamMessage[Any]) -> None:
    """FastStream's decoder for records nobody reads as decoded: the consumer reads the raw records.

    FastStream's own would parse every record's value as JSON (and wrap each in a message),
    only for the result to be thrown away. A coroutine, or FastStream runs it in a thread.
    """


def subscribe(
    broker: KafkaBroker, topic: str, consumer: IdempotentConsumer, prefix: str = "", group_suffix: str = ""
) -> None:
    """Feed every record of ``topic`` to an idempotent consumer, one by one, in order."""
    throttle = CommitThrottle()

    @broker.subscriber(
        f"{prefix}{topic}",
        # The group belongs to the read model's database: two databases, two groups.
        group_id=f"{consumer.name}{group_suffix}",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=_undecoded,
        title=f"{consumer.name}:{topic}",
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
    )
    async def on_record(message: KafkaMessage) -> None:
        await settle(message, consumer.handle(message.raw_message), throttle)  # type: ignore[arg-type]


# A fetch of up to this many records is applied in one transaction. A backlog fills each
# (aiokafka's fetch of booking.events' six partitions holds about 2,700 of its events);
# 5,000 caught up within the noise of 1,000 (bench, four runs each), and would hold booking's
# waitlist reactor's transaction (it shares this setting) over five times as many reactions.
BATCH_RECORDS = 1000
# How long a fetch waits for its first record; Kafka hands over what it has as soon as it has any.
BATCH_WAIT_MS = 100
# After a transient failure the batch comes back; a short pause keeps an outage from spinning.
TRANSIENT_PAUSE_SECONDS = 0.2
# A patient consumer's fetch waits at the broker until this much is there (or its patience
# runs out): a reactor that acts on a few kinds of event on a busy topic then reads it in a
# few large fetches a second instead of one small fetch per record the relay sends.
PATIENT_FETCH_BYTES = 256 * 1024


def subscribe_batch(
    broker: KafkaBroker,
    topic: str,
    consumer: IdempotentConsumer,
    prefix: str = "",
    group_suffix: str = "",
    *,
    max_records: int = BATCH_RECORDS,
    patience_ms: int = 0,
) -> None:
    """Feed ``topic`` to an idempotent consumer a fetch at a time, in one transaction each.

    A failed batch is rewound: every partition in it goes back to its first record, so
    all of it comes again. With ``patience_ms`` a fetch waits that long at the broker for
    ``PATIENT_FETCH_BYTES`` to gather, unless they are there sooner.
    """
    throttle = CommitThrottle()

    async def handled(message: KafkaMessage) -> None:
        try:
            await consumer.handle_batch(message.raw_message)
        except Exception as exc:
            if is_transient(exc):
                await asyncio.sleep(TRANSIENT_PAUSE_SECONDS)
            raise

    @broker.subscriber(
        f"{prefix}{topic}",
        group_id=f"{consumer.name}{group_suffix}",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=BATCH_WAIT_MS,
        decoder=_undecoded,
        title=f"{consumer.name}:{topic}",
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
        # Without patience, aiokafka's defaults: a fetch comes back as soon as a record is there.
        fetch_min_bytes=PATIENT_FETCH_BYTES if patience_ms else 1,
        fetch_max_wait_ms=patience_ms or 500,
    )
    async def on_batch(message: KafkaMessage) -> None:
        await settle(message, handled(message), throttle)


def recent_ids(bootstrap: str, prefix: str = "") -> Any:
    """The relay's look at the tail of a topic: the ce_id of its newest records per partition."""

    async def read(topic: str, per_partition: int) -> set[str]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            name = f"{prefix}{topic}"
            partitions = [TopicPartition(name, p) for p in sorted(await partitions_of(bootstrap, name))]
            if not partitions:
                return set()
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
            for tp in partitions:
                consumer.seek(tp, max(starts[tp], ends[tp] - per_partition))
            seen: set[str] = set()
            remaining = {tp for tp in partitions if ends[tp] > starts[tp]}
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=1000)
                if not batch:
                    break
                for tp, records in batch.items():
                    for record in records:
                        for key, value in record.headers or ():
                            if key == "ce_id":
                                seen.add(bytes(value).decode())
                        if record.offset + 1 >= ends[tp]:
                            remaining.discard(tp)
            return seen
        finally:
            await consumer.stop()

    return read


async def partitions_of(bootstrap: str, topic: str) -> set[int]:
    """A topic's partition numbers (a consumer with no assignment knows none: the admin client asks)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return {p["partition"] for d in described for p in d.get("partitions", [])}
