"""The page handlers, one module a page, gathered on one object the app routes to."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.london_input import AsAt
from web.pages import county, diary, free_slots, history
from web.pages.site import Site
from web.places import Place


class Pages(Site):
    """The page handlers, with the county, the services and the clock they read."""

    async def county_page(self, request: Request, form: Mapping[str, str] | None = None) -> HTMLResponse:
        """The districts, their appointment stations and diary cars; a postcode search sent from it."""
        return await county.county_page(self, request, form)

    async def diary_page(
        self, request: Request, kind: Place, place_id: str, day_text: str | None, as_at: AsAt
    ) -> HTMLResponse:
        """A day's diary, live or as it stood at ``as_at``."""
        return await diary.diary_page(self, request, kind, place_id, day_text, as_at)

    async def free_page(
        self, request: Request, kind: Place, place_id: str, first_text: str | None, last_text: str | None
    ) -> HTMLResponse:
        """The free slots (or diary-car windows) booking offers over a range of days, grouped by day."""
        return await free_slots.free_page(self, request, kind, place_id, first_text, last_text)

    async def history_page(self, request: Request, appointment_id: str) -> HTMLResponse:
        """An appointment's history as a timeline: when, what, and who."""
        return await history.history_page(self, request, appointment_id)
