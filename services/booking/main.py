"""Wiring of the booking service: event store, key store, handlers, HTTP, Kafka."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from schemas.envelope import Envelope
from schemas.topics import CONTROLROOM_REQUESTS, ROSTER_EVENTS
from services.booking.adapters import lifecycle_http, waitlist_http
from services.booking.adapters.controlroom import ControlRoomRequests
from services.booking.adapters.http import router
from services.booking.app.handlers import BookingHandlers
from services.booking.app.roster_changes import RosterChanges
from services.booking.app.waitlist import WaitlistOffers
from services.common.config import settings
from services.common.consumer import Position, Transient
from services.common.db import open_pool
from services.common.http import create_http_app
from services.common.runtime import Runtime
from services.common.shredding import KEYSTORE_DATABASE, KEYSTORE_MIGRATIONS, KeyStore

SERVICE = "booking"
MIGRATIONS = Path(__file__).with_name("migrations")


def create_app() -> FastAPI:
    """The booking service's ASGI app."""
    cfg = settings()
    runtime = Runtime(SERVICE, cfg, [MIGRATIONS])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys: list[asyncpg.Pool] = []
        background: list[asyncio.Task[None]] = []

        async def when_ready() -> None:
            await runtime.ready.wait()
            pool = await open_pool(cfg.database_url(KEYSTORE_DATABASE), [KEYSTORE_MIGRATIONS], max_size=5)
            keys.append(pool)
            handlers = BookingHandlers(runtime.db, KeyStore(pool), cfg, runtime.source)
            await handlers.load_reference()
            app.state.handlers = handlers
            # Freed capacity goes to the callers waiting, once booking can decide anything.
            background.append(asyncio.create_task(WaitlistOffers(handlers).run(), name="booking-waitlist"))

        async def apply_roster(conn: asyncpg.Connection, env: Envelope, position: Position) -> None:
            handlers: BookingHandlers | None = getattr(app.state, "handlers", None)
            if handlers is None:
                # Not poison: the record comes back once booking is wired.
                raise Transient("booking is still starting")
            await RosterChanges(handlers).apply(conn, env, position)

        async def apply_request(conn: asyncpg.Connection, env: Envelope, position: Position) -> None:
            handlers: BookingHandlers | None = getattr(app.state, "handlers", None)
            if handlers is None:
                raise Transient("booking is still starting")
            await ControlRoomRequests(handlers).apply(conn, env, position)

        subscriptions = [
            ("booking-roster", ROSTER_EVENTS, apply_roster),
            ("booking-controlroom", CONTROLROOM_REQUESTS, apply_request),
        ]
        async with runtime.running(subscriptions):
            wiring = asyncio.create_task(when_ready())
            try:
                yield
            finally:
                wiring.cancel()
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                for pool in keys:
                    await pool.close()

    async def probe_wiring() -> None:
        if getattr(app.state, "handlers", None) is None:
            raise ConnectionError("key store and reference data not loaded yet")

    app = create_http_app(
        SERVICE,
        {"postgresql": runtime.probe_database, "kafka": runtime.probe_kafka, "wiring": probe_wiring},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.include_router(router)
    app.include_router(lifecycle_http.router)
    app.include_router(waitlist_http.router)
    return app
