"""Wiring of the projections service: consumers of every event topic, and the query API."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from fastapi import FastAPI

from schemas.topics import BOOKING_EVENTS, NOTIFICATIONS_EVENTS, ROSTER_EVENTS
from services.common.runtime import Runtime
from services.common.wiring import Consumer, service_app
from services.projections.adapters import backfill, batch, store
from services.projections.adapters.http import router

SERVICE = "projections"
MIGRATIONS = Path(__file__).with_name("migrations")
# Consumer names are also the Kafka group ids; a rebuild starts new ones from the beginning.
# The read models need no handlers: each apply writes straight into the projections database,
# a whole Kafka fetch per transaction (record by record only to put a poison one aside).
CONSUMERS: tuple[Consumer[Runtime], ...] = (
    Consumer(
        "projections-booking",
        BOOKING_EVENTS,
        lambda _: store.apply_booking_event,
        lambda _: batch.apply_booking_events,
    ),
    Consumer(
        "projections-roster", ROSTER_EVENTS, lambda _: store.record_event, lambda _: batch.record_events
    ),
    Consumer(
        "projections-notifications",
        NOTIFICATIONS_EVENTS,
        lambda _: store.record_event,
        lambda _: batch.record_events,
    ),
)


async def wire(runtime: Runtime, _: AsyncExitStack) -> Runtime:
    """Index what was recorded before the diary-days index existed; then the runtime is all."""
    # Consumers wait for this (they apply only once wired), so the index misses nothing.
    async with runtime.db.acquire() as conn:
        await backfill.index_recorded_days(conn)
    return runtime


def create_app() -> FastAPI:
    """The projections service's ASGI app."""
    return service_app(
        SERVICE,
        MIGRATIONS,
        wire=wire,
        routers=[router],
        consumers=CONSUMERS,
    )
