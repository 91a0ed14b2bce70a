"""The web pages' app: server-rendered HTML over the projections and booking services' HTTP APIs.

The pages hold no state of their own. Every diary, free slot and history comes from
the services over HTTP, with a supervisor token this process issues itself; when a
service is down or refuses, the page says so in plain words instead of failing.
This module only wires the pieces together and routes addresses to the page handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from services.common.auth import Role
from services.common.http import create_http_app
from services.common.reference import County, load_county
from services.common.token_keys import local_issuer
from web.backends import BACKEND_TIMEOUT, BACKENDS, Backends, service_url
from web.errors import add_error_pages, error_page
from web.london_input import AsAt, resolve_as_at
from web.pages import Pages
from web.rendering import STATIC

SERVICE = "web"
TOKEN_SUBJECT = "web-pages"
# The pages' own token is short-lived and renewed at half its life while they run.
PAGES_TOKEN_TTL = timedelta(hours=1)


def pages_token() -> str:
    """The supervisor token the pages call the services with (their own sign-in is a later issue)."""
    return local_issuer().token(Role.SUPERVISOR, TOKEN_SUBJECT, PAGES_TOKEN_TTL)


def _as_at(at: str | None = None, at_date: str | None = None, at_time: str | None = None) -> AsAt:
    """The diary pages' 'as it stood at' query: an ``at`` instant, or a London date and time."""
    return resolve_as_at(at, at_date, at_time)


def _days(
    first: str | None = Query(None, alias="from"), last: str | None = Query(None, alias="to")
) -> tuple[str | None, str | None]:
    """The free-slot pages' range of days, as typed."""
    return first, last


def create_app(
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    urls: Mapping[str, str] | None = None,
    county: County | None = None,
    now: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The web pages' ASGI app; tests pass a fake ``transport`` instead of the real services."""
    backends = Backends(
        client=httpx.AsyncClient(transport=transport, timeout=BACKEND_TIMEOUT),
        urls={name: service_url(name) for name in BACKENDS} | dict(urls or {}),
        token=pages_token(),
    )
    pages = Pages(county or load_county(), backends, now or (lambda: datetime.now(UTC)))

    async def renew_token() -> None:
        while True:
            await asyncio.sleep(PAGES_TOKEN_TTL.total_seconds() / 2)
            backends.token = pages_token()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        renewal = asyncio.create_task(renew_token(), name="web-token")
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            await backends.client.aclose()

    def probe(service: str) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            await backends.probe(service)

        return check

    app = create_http_app(SERVICE, {name: probe(name) for name in BACKENDS}, lifespan=lifespan)
    app.state.pages = pages
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_error_pages(app)

    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    async def county_page(request: Request) -> HTMLResponse:
        """The county: districts, their appointment stations and diary cars."""
        return await pages.county_page(request)

    @app.get("/stations/{station_id}/diary", response_class=HTMLResponse, tags=["pages"])
    async def station_diary(
        request: Request, station_id: str, day: str | None = None, as_at: AsAt = Depends(_as_at)
    ) -> HTMLResponse:
        """A station's diary for a day, or as it stood at a London date and time."""
        return await pages.diary_page(request, "station", station_id, day, as_at)

    @app.get("/diary-cars/{district_id}/diary", response_class=HTMLResponse, tags=["pages"])
    async def diary_car_diary(
        request: Request, district_id: str, day: str | None = None, as_at: AsAt = Depends(_as_at)
    ) -> HTMLResponse:
        """A district diary car's day, or as it stood at a London date and time."""
        return await pages.diary_page(request, "diary-car", district_id, day, as_at)

    @app.get("/stations/{station_id}/free-slots", response_class=HTMLResponse, tags=["pages"])
    async def station_free_slots(
        request: Request, station_id: str, days: tuple[str | None, str | None] = Depends(_days)
    ) -> HTMLResponse:
        """The free slots booking offers at a station, grouped by day."""
        return await pages.free_page(request, "station", station_id, *days)

    @app.get("/diary-cars/{district_id}/free-windows", response_class=HTMLResponse, tags=["pages"])
    async def diary_car_free_windows(
        request: Request, district_id: str, days: tuple[str | None, str | None] = Depends(_days)
    ) -> HTMLResponse:
        """The free home-visit windows booking offers for a diary car, grouped by day."""
        return await pages.free_page(request, "diary-car", district_id, *days)

    @app.get("/appointments", response_class=HTMLResponse, tags=["pages"])
    async def find_appointment(request: Request, reference: str | None = Query(None, alias="id")) -> Response:
        """Go to an appointment's history from the reference typed on the county page."""
        reference = (reference or "").strip()
        if not reference:
            why = "Type the appointment's reference to see its history."
            return error_page(request, 422, "Enter an appointment reference", why, back="/")
        return RedirectResponse(f"/appointments/{quote(reference, safe='')}", status_code=303)

    @app.get("/appointments/{appointment_id}", response_class=HTMLResponse, tags=["pages"])
    async def appointment_history(request: Request, appointment_id: str) -> HTMLResponse:
        """An appointment's history as a timeline: when, what, and who."""
        return await pages.history_page(request, appointment_id)

    return app
