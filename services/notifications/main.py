"""Wiring of the notifications service (a skeleton so far: health, metrics, its database)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from fastapi import FastAPI

from services.common.runtime import Runtime
from services.common.wiring import service_app

SERVICE = "notifications"
MIGRATIONS = Path(__file__).with_name("migrations")


async def wire(runtime: Runtime, _: AsyncExitStack) -> Runtime:
    """Nothing to build yet beyond the runtime itself."""
    return runtime


def create_app() -> FastAPI:
    """The notifications service's ASGI app."""
    return service_app(SERVICE, MIGRATIONS, wire=wire)
