"""Wiring of the roster service: its runtime, its handlers, its HTTP app."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from fastapi import FastAPI

from services.common.reference import load_county
from services.common.runtime import Runtime
from services.common.wiring import service_app
from services.roster.adapters.http import router
from services.roster.app.handlers import RosterHandlers

SERVICE = "roster"
MIGRATIONS = Path(__file__).with_name("migrations")


async def wire(runtime: Runtime, _: AsyncExitStack) -> RosterHandlers:
    """The roster's handlers over its event store."""
    return RosterHandlers(runtime.db, runtime.source, load_county())


def create_app() -> FastAPI:
    """The roster service's ASGI app."""
    return service_app(SERVICE, MIGRATIONS, wire=wire, routers=[router])
