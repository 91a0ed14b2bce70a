"""Wiring of the projections service: consumers of every event topic, and the query API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from schemas.topics import BOOKING_EVENTS, NOTIFICATIONS_EVENTS, ROSTER_EVENTS
from services.common.config import settings
from services.common.http import create_http_app
from services.common.runtime import Runtime
from services.projections.adapters import store
from services.projections.adapters.http import router

SERVICE = "projections"
MIGRATIONS = Path(__file__).with_name("migrations")
# Consumer names are also the Kafka group ids; a rebuild starts new ones from the beginning.
SUBSCRIPTIONS = (
    ("projections-booking", BOOKING_EVENTS, store.apply_booking_event),
    ("projections-roster", ROSTER_EVENTS, store.record_event),
    ("projections-notifications", NOTIFICATIONS_EVENTS, store.record_event),
)


def create_app() -> FastAPI:
    """The projections service's ASGI app."""
    runtime = Runtime(SERVICE, settings(), [MIGRATIONS])

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.running(SUBSCRIPTIONS):
            yield

    app = create_http_app(
        SERVICE, {"postgresql": runtime.probe_database, "kafka": runtime.probe_kafka}, lifespan=lifespan
    )
    app.state.runtime = runtime
    app.include_router(router)
    return app
