"""The county page: districts, their appointment stations and diary cars, linking to today's diaries.

A call taker finds the place by the caller's postcode too (a POST to ``/`` with the session's
CSRF token, so the caller's postcode never goes into an address, a browser's history or a
server's access log): the projections' ``GET /postcodes/{postcode}`` (the ONS Postcode
Directory an operator loaded) names the district whose diary car covers it and its stations,
and ``GET /availability`` the earliest free slot at each of them and the diary car's earliest
window, each with its diary and "Book" links. It is sent with the call taker's own token and
kept nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.common.london import spoken_day, spoken_span
from services.common.reference import District
from services.common.roles import BOOKERS
from web.backends import BackendError
from web.errors import error_page
from web.pages.book import csrf_ok
from web.pages.site import Site
from web.rendering import render
from web.words import sentence, spoken_days, spoken_list

POSTCODE_EMPTY = "Enter the caller's postcode"
POSTCODE_LONGEST = 16
POSTCODE_SHAPE = "Enter a real postcode, like AL1 3JX"


class _Answer(BaseModel):
    # Services may add fields (the contract grows by adding); the page reads only what it shows.
    model_config = ConfigDict(extra="ignore")


class PostcodeStationAnswer(_Answer):
    """A station of the postcode's district."""

    station_id: str
    name: str
    offers_appointments: bool


class PostcodeCarAnswer(_Answer):
    """The district's diary car."""

    name: str


class PostcodeAnswer(_Answer):
    """The projections' answer to GET /postcodes/{postcode}."""

    postcode: str
    district_id: str
    district_name: str
    diary_car: PostcodeCarAnswer
    stations: list[PostcodeStationAnswer]


class FreeSlotCapacity(_Answer):
    """A slot or window still to begin, and how many more it takes."""

    starts_at: AwareDatetime
    when: str
    free: int


class DayCapacityAnswer(_Answer):
    """A place's day."""

    day: date
    slots: list[FreeSlotCapacity]


class PlaceCapacityAnswer(_Answer):
    """A station or a diary car (named by its district) and its days."""

    place: str
    place_id: str
    days: list[DayCapacityAnswer]


class AvailabilityAnswer(_Answer):
    """The projections' free capacity of one district's places."""

    places: list[PlaceCapacityAnswer]


@dataclass(frozen=True)
class PostcodeLookup:
    """What the postcode field found: the district (or None), and an error for the field, or a notice."""

    typed: str
    found: dict[str, Any] | None = None
    error: str | None = None
    notice: str | None = None


def _earliest(availability: AvailabilityAnswer | None, place: str, place_id: str) -> str | None:
    """The earliest slot (or window) with room at a place, in words; None when none is free."""
    for p in availability.places if availability else ():
        if (p.place, p.place_id) == (place, place_id):
            free = [s for d in p.days for s in d.slots if s.free > 0]
            return min(free, key=lambda s: s.starts_at).when if free else None
    return None


async def _availability(site: Site, district_id: str) -> AvailabilityAnswer | None:
    """The district's free capacity this week; None when the projections cannot say."""
    try:
        return await site.backends.read(
            AvailabilityAnswer, "projections", "/availability", {"district": district_id}
        )
    except BackendError:
        return None


def _backend_reason(exc: BackendError) -> str:
    """The service's own reason for the postcode field (its body names the field)."""
    return exc.detail.rsplit("postcode: ", 1)[-1]


async def _postcode(site: Site, typed: str, day: str) -> PostcodeLookup:
    """The district whose diary car covers a postcode, its stations and their earliest free slots."""
    text = typed.strip()
    if not text:
        return PostcodeLookup(typed, error=POSTCODE_EMPTY)
    if len(text) > POSTCODE_LONGEST:
        return PostcodeLookup(typed, error=POSTCODE_SHAPE)
    try:
        answer = await site.backends.read(PostcodeAnswer, "projections", f"/postcodes/{quote(text, safe='')}")
    except BackendError as exc:
        if exc.status == 422:
            return PostcodeLookup(typed, error=POSTCODE_SHAPE)
        if exc.status == 404:
            return PostcodeLookup(typed, error=_backend_reason(exc))
        if exc.status == 503 and "no postcode directory" in exc.detail:
            notice = "No postcode directory has been loaded yet, so postcodes cannot be looked up."
        else:
            notice = f"Postcodes cannot be looked up just now: the {exc.service} service {exc.detail}."
        return PostcodeLookup(typed, notice=f"{notice} Find the place by its district below.")
    availability = await _availability(site, answer.district_id)
    district = answer.district_id
    stations = [
        {
            "name": s.name,
            "earliest": _earliest(availability, "station", s.station_id),
            "diary_url": f"/stations/{s.station_id}/diary?day={day}",
            "free_slots_url": f"/stations/{s.station_id}/free-slots",
            "book_url": f"/book/stations/{s.station_id}",
        }
        for s in answer.stations
        if s.offers_appointments
    ]
    found = {
        "postcode": answer.postcode,
        "district": answer.district_name,
        "car": {
            "name": answer.diary_car.name,
            "earliest": _earliest(availability, "diary-car", district),
            "diary_url": f"/diary-cars/{district}/diary?day={day}",
            "free_windows_url": f"/diary-cars/{district}/free-windows",
            "book_url": f"/book/diary-cars/{district}",
        },
        "stations": stations,
        "other_stations": spoken_list([s.name for s in answer.stations if not s.offers_appointments]),
        "earliest_url": f"/book/districts/{district}",
        "availability_known": availability is not None,
    }
    return PostcodeLookup(answer.postcode, found=found)


def _district(site: Site, district: District, day: str) -> dict[str, Any]:
    """One district as the county page lists it."""
    stations = site.county.stations_in(district.id)
    car, windows = district.diary_car, district.diary_car.windows
    return {
        "name": district.name,
        "stations": [
            {
                "name": s.name,
                "days": sentence(spoken_days(s.appointment_days)),
                "diary_url": f"/stations/{s.id}/diary?day={day}",
                "free_slots_url": f"/stations/{s.id}/free-slots",
                "book_url": f"/book/stations/{s.id}",
            }
            for s in stations
            if s.offers_appointments
        ],
        "other_stations": spoken_list([s.name for s in stations if not s.offers_appointments]),
        "car": {
            "name": car.name,
            "days": sentence(spoken_days(car.days)),
            "hours": spoken_span(windows[0].start, windows[-1].end) if windows else "",
            "windows": len(windows),
            "diary_url": f"/diary-cars/{district.id}/diary?day={day}",
            "free_windows_url": f"/diary-cars/{district.id}/free-windows",
            "book_url": f"/book/diary-cars/{district.id}",
        },
        "earliest_url": f"/book/districts/{district.id}",
    }


async def county_page(site: Site, request: Request, form: Mapping[str, str] | None = None) -> HTMLResponse:
    """The districts, their appointment stations and diary cars, linking to today's diaries.

    ``form``: a postcode search sent from the page (None: the page asked for).
    """
    day = site.today().isoformat()
    first = next(iter(site.county.appointment_stations()), None)
    hours = [
        f"{spoken_span(h.first_slot, h.closes)} {spoken_days(h.days)}"
        for h in (first.opening_hours if first else ())
    ]
    can_book = request.state.session.role in BOOKERS
    if form is not None and not can_book:
        why = "Finding the place by a postcode is for those who book appointments."
        return error_page(request, 403, "You cannot look up postcodes", why, back="/")
    if form is not None and not csrf_ok(request, form):
        return error_page(request, 403, "The form has expired", "Reload the page and try again.", back="/")
    typed = form.get("postcode", "") if form is not None else None
    lookup = await _postcode(site, typed, day) if typed is not None else None
    return render(
        request,
        "county.html",
        status=422 if lookup and lookup.error else 200,
        title=("Error: " if lookup and lookup.error else "") + f"{site.county.name}: station appointments",
        postcode=lookup,
        county=site.county.name,
        today=spoken_day(site.today()),
        districts=[_district(site, district, day) for district in site.county.districts],
        hours=hours,
        can_book=can_book,
    )
