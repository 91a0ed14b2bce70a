"""Wiring of the roster service: its runtime, its handlers, its HTTP app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.common.config import settings
from services.common.http import create_http_app
from services.common.reference import load_county
from services.common.runtime import Runtime
from services.roster.adapters.http import router
from services.roster.app.handlers import RosterHandlers

SERVICE = "roster"
MIGRATIONS = Path(__file__).with_name("migrations")


def create_app() -> FastAPI:
    """The roster service's ASGI app."""
    runtime = Runtime(SERVICE, settings(), [MIGRATIONS])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def when_ready() -> None:
            # The pool exists only once the runtime has reached PostgreSQL and Kafka.
            await runtime.ready.wait()
            app.state.handlers = RosterHandlers(runtime.db, runtime.source, load_county())

        async with runtime.running():
            wiring = asyncio.create_task(when_ready())
            try:
                yield
            finally:
                wiring.cancel()

    async def probe_wiring() -> None:
        if getattr(app.state, "handlers", None) is None:
            raise ConnectionError("handlers not wired yet")

    app = create_http_app(
        SERVICE,
        {"postgresql": runtime.probe_database, "kafka": runtime.probe_kafka, "wiring": probe_wiring},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.include_router(router)
    return app
