"""Kafka at the edge of every service: one FastStream broker, idempotent, acks=all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from services.common.consumer import IdempotentConsumer


def make_broker(bootstrap: str, client_id: str) -> KafkaBroker:
    """A broker whose producer is idempotent and waits for every in-sync replica."""
    return KafkaBroker(
        bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        logger=None,
    )


def _str_headers(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    return {name: value.decode() for name, value in headers}


def sender(broker: KafkaBroker, prefix: str = "") -> Any:
    """The relay's send: queue one record and hand back the future of its acknowledgement."""

    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Awaitable[Any]:
        h = _str_headers(headers)
        future: asyncio.Future[Any] = await broker.publish(
            value,
            f"{prefix}{topic}",
            key=key,
            headers=h,
            correlation_id=h.get("correlation_id"),
            no_confirm=True,
        )
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


def subscribe(broker: KafkaBroker, topic: str, consumer: IdempotentConsumer, prefix: str = "") -> None:
    """Feed every record of ``topic`` to an idempotent consumer, acknowledging after it is applied."""

    @broker.subscriber(
        f"{prefix}{topic}",
        group_id=consumer.name,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{consumer.name}:{topic}",
    )
    async def on_record(message: KafkaMessage) -> None:
        await consumer.handle(message.raw_message)  # type: ignore[arg-type]
