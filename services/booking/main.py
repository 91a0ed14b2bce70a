"""Wiring of the booking service: event store, key store, handlers, HTTP, Kafka."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from fastapi import FastAPI

from schemas.topics import BOOKING_EVENTS, CONTROLROOM_REQUESTS, ROSTER_EVENTS
from services.booking.adapters import lifecycle_http, waitlist_http
from services.booking.adapters.controlroom import ControlRoomRequests
from services.booking.adapters.http import router
from services.booking.adapters.views import BookingViews
from services.booking.app.handlers import BookingHandlers
from services.booking.app.roster_changes import ROSTER_FACTS, RosterChanges
from services.booking.app.waitlist import OfferLapses, WaitlistReactor
from services.booking.app.waitlist.reactor import REACTS_TO
from services.common.db import open_pool
from services.common.pg_store import PgEventStore
from services.common.runtime import Runtime
from services.common.shredding import KEYSTORE_DATABASE, KEYSTORE_MIGRATIONS, PgKeyStore
from services.common.wiring import Consumer, cancel_on_exit, service_app

SERVICE = "booking"
# How long the waitlist reactor's fetches wait at the broker for records to gather.
WAITLIST_PATIENCE_MS = 200
MIGRATIONS = Path(__file__).with_name("migrations")


async def wire(runtime: Runtime, cleanups: AsyncExitStack) -> BookingHandlers:
    """The key store, the reference data in force, the handlers, and the lapse timer of offers."""
    cfg = runtime.settings
    keys = await open_pool(cfg.database_url(KEYSTORE_DATABASE), [KEYSTORE_MIGRATIONS], max_size=5)
    cleanups.push_async_callback(keys.close)
    store = PgEventStore(runtime.db, runtime.source, BookingViews, lazy=True)
    handlers = BookingHandlers(store, PgKeyStore(keys), cfg, runtime.source)
    await handlers.load_reference()
    # Every booking process follows the county, wherever `appointments seed` loaded it.
    county = asyncio.create_task(handlers.follow_reference(runtime.db), name="booking-county")
    cleanups.push_async_callback(cancel_on_exit, county)
    # Offers lapse by their deadlines (one process at a time), once booking can decide anything.
    lapses = asyncio.create_task(OfferLapses(handlers).run(runtime.db), name="booking-offer-lapses")
    cleanups.push_async_callback(cancel_on_exit, lapses)
    return handlers


# What booking consumes: the roster (capacity, withdrawals), the control room's requests, and
# its own events, which the waitlist reacts to (freed capacity offered to the callers waiting).
CONSUMERS: tuple[Consumer[BookingHandlers], ...] = (
    Consumer("booking-roster", ROSTER_EVENTS, lambda h: RosterChanges(h).apply, wants=ROSTER_FACTS),
    # Requests are commands of the control room's, read and refused by their own reader.
    Consumer(
        "booking-controlroom", CONTROLROOM_REQUESTS, lambda h: ControlRoomRequests(h).apply, contract=False
    ),
    Consumer(
        "booking-waitlist",
        BOOKING_EVENTS,
        lambda h: WaitlistReactor(h).apply,
        lambda h: WaitlistReactor(h).apply_batch,
        wants=REACTS_TO,
        # Most records are bookings it lets pass; a freed slot may be offered a moment later.
        patience_ms=WAITLIST_PATIENCE_MS,
    ),
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
