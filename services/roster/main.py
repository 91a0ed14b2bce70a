"""Wiring of the roster service: its runtime, its HTTP app, its subscriptions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.common.config import settings
from services.common.http import create_http_app
from services.common.runtime import Runtime

SERVICE = "roster"
MIGRATIONS = Path(__file__).with_name("migrations")


def create_app() -> FastAPI:
    """The roster service's ASGI app."""
    runtime = Runtime(SERVICE, settings(), [MIGRATIONS])

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    app = create_http_app(
        SERVICE,
        {"postgresql": runtime.probe_database, "kafka": runtime.probe_kafka},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
