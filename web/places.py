"""Stations and diary cars as the pages link to them and the services name them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.common.reference import County, Station
from web.errors import error_page

Place = Literal["station", "diary-car"]


@dataclass(frozen=True)
class PlaceView:
    """A station or a diary car as the pages link to it and the services name it."""

    kind: Place
    name: str
    station: Station | None
    place_id: str
    diary_path: str
    free_path: str
    diary_api: str
    free_api: str


def find_place(county: County, kind: Place, place_id: str) -> PlaceView | None:
    """The appointment station or the district's diary car with this id, or None."""
    quoted = quote(place_id, safe="")
    if kind == "station":
        try:
            station = county.station(place_id)
        except LookupError:
            return None
        if not station.offers_appointments:
            return None
        free = f"/stations/{quoted}/free-slots"
        name = f"{station.name} police station"
        diary, diary_api = f"/stations/{quoted}/diary", f"/diaries/stations/{quoted}"
        return PlaceView(kind, name, station, place_id, diary, free, diary_api, free)
    try:
        car = county.diary_car(place_id)
    except LookupError:
        return None
    free = f"/diary-cars/{quoted}/free-windows"
    diary, diary_api = f"/diary-cars/{quoted}/diary", f"/diaries/diary-cars/{quoted}"
    return PlaceView(kind, car.name, None, place_id, diary, free, diary_api, free)


def room_names(county: County) -> dict[str, str]:
    """Every appointment room's name by its id."""
    return {room.id: room.name for s in county.stations for room in s.rooms}


def no_place(request: Request, kind: Place, place_id: str) -> HTMLResponse:
    """The page for a station or district that is not in the county (or takes no appointments)."""
    if kind == "station":
        title, what = "No such appointment station", "station with an appointment room"
    else:
        title, what = "No such district", "district"
    return error_page(request, 404, title, f"There is no {what} called “{place_id}”.", back="/")
