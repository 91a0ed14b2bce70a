"""The county page: districts, their appointment stations and diary cars, linking to today's diaries."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.common.london import spoken_day, spoken_span
from services.common.reference import District
from services.common.roles import BOOKERS
from web.pages.site import Site
from web.rendering import render
from web.words import sentence, spoken_days, spoken_list


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


async def county_page(site: Site, request: Request) -> HTMLResponse:
    """The districts, their appointment stations and diary cars, linking to today's diaries."""
    day = site.today().isoformat()
    first = next(iter(site.county.appointment_stations()), None)
    hours = [
        f"{spoken_span(h.first_slot, h.closes)} {spoken_days(h.days)}"
        for h in (first.opening_hours if first else ())
    ]
    return render(
        request,
        "county.html",
        title=f"{site.county.name}: station appointments",
        county=site.county.name,
        today=spoken_day(site.today()),
        districts=[_district(site, district, day) for district in site.county.districts],
        hours=hours,
        can_book=request.state.session.role in BOOKERS,
    )
