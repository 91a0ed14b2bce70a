"""Wiring of the roster service: its runtime, its handlers, its HTTP app, its copy of the county."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from fastapi import FastAPI

from schemas.reference import CountyReferenceLoaded
from schemas.topics import BOOKING_EVENTS
from services.common.runtime import Runtime
from services.common.wiring import Consumer, service_app
from services.roster.adapters import county_http, staff_http
from services.roster.adapters.http import router
from services.roster.app.county import CountyNotReceived, CountyReference
from services.roster.app.handlers import RosterHandlers

SERVICE = "roster"
MIGRATIONS = Path(__file__).with_name("migrations")


async def wire(runtime: Runtime, _: AsyncExitStack) -> RosterHandlers:
    """The roster's handlers over its event store, with the county it last took from booking."""
    return RosterHandlers(runtime.db, runtime.source, await CountyReference.load(runtime.db))


# What the roster consumes: booking's record of the county's reference data (nothing else of it).
CONSUMERS: tuple[Consumer[RosterHandlers], ...] = (
    Consumer(
        "roster-county",
        BOOKING_EVENTS,
        lambda h: h.reference.apply,
        wants=frozenset({CountyReferenceLoaded.event_type}),
    ),
)


def create_app() -> FastAPI:
    """The roster service's ASGI app."""
    routers = [router, county_http.router, staff_http.router]
    app = service_app(SERVICE, MIGRATIONS, wire=wire, routers=routers, consumers=CONSUMERS)
    app.add_exception_handler(CountyNotReceived, county_http.county_not_received)
    return app
