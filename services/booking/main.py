"""Wiring of the booking service: event store, key store, handlers, HTTP, Kafka."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from fastapi import FastAPI

from schemas.topics import CONTROLROOM_REQUESTS, ROSTER_EVENTS
from services.booking.adapters import lifecycle_http, waitlist_http
from services.booking.adapters.controlroom import ControlRoomRequests
from services.booking.adapters.http import router
from services.booking.adapters.views import BookingViews
from services.booking.app.handlers import BookingHandlers
from services.booking.app.roster_changes import RosterChanges
from services.booking.app.waitlist import WaitlistOffers
from services.common.db import open_pool
from services.common.pg_store import PgEventStore
from services.common.runtime import Runtime
from services.common.shredding import KEYSTORE_DATABASE, KEYSTORE_MIGRATIONS, PgKeyStore
from services.common.wiring import Consumer, cancel_on_exit, service_app

SERVICE = "booking"
MIGRATIONS = Path(__file__).with_name("migrations")


async def wire(runtime: Runtime, cleanups: AsyncExitStack) -> BookingHandlers:
    """The key store, the reference data in force, the handlers, and the waitlist's offers."""
    cfg = runtime.settings
    keys = await open_pool(cfg.database_url(KEYSTORE_DATABASE), [KEYSTORE_MIGRATIONS], max_size=5)
    cleanups.push_async_callback(keys.close)
    store = PgEventStore(runtime.db, runtime.source, BookingViews)
    handlers = BookingHandlers(store, PgKeyStore(keys), cfg, runtime.source)
    await handlers.load_reference()
    # Freed capacity goes to the callers waiting, once booking can decide anything.
    offers = asyncio.create_task(WaitlistOffers(handlers, runtime.db).run(), name="booking-waitlist")
    cleanups.push_async_callback(cancel_on_exit, offers)
    return handlers


# What booking consumes: the roster (capacity, withdrawals) and the control room's requests.
CONSUMERS: tuple[Consumer[BookingHandlers], ...] = (
    Consumer("booking-roster", ROSTER_EVENTS, lambda h: RosterChanges(h).apply),
    Consumer("booking-controlroom", CONTROLROOM_REQUESTS, lambda h: ControlRoomRequests(h).apply),
)


def create_app() -> FastAPI:
    """The booking service's ASGI app."""
    return service_app(
        SERVICE,
        MIGRATIONS,
        wire=wire,
        routers=[router, lifecycle_http.router, waitlist_http.router],
        consumers=CONSUMERS,
    )
