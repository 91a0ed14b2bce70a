"""Which stations and districts the county has: from booking's CountyReferenceLoaded in the history.

Every version ever loaded counts, so the diary of a station since closed still reads; an id
no version had is unknown (404), as booking and the roster answer.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi.responses import JSONResponse

from services.common.http import plausible_id, problem, unknown

Place = tuple[str, str]  # ("station" | "diary-car", id): a diary car is named by its district

_PLACES = """
with documents as (
    select data -> 'document' as document from event_history where event_type = 'CountyReferenceLoaded'
)
select 'station' as place, item ->> 'id' as place_id from documents,
    jsonb_array_elements(case when jsonb_typeof(document -> 'stations') = 'array'
                         then document -> 'stations' else '[]'::jsonb end) as item
union
select 'diary-car', item ->> 'id' from documents,
    jsonb_array_elements(case when jsonb_typeof(document -> 'districts') = 'array'
                         then document -> 'districts' else '[]'::jsonb end) as item
"""


class CountyNotReceived(Exception):
    """No version of the county has reached the projections yet."""

    retry_after_seconds = 5

    def __init__(self) -> None:
        super().__init__("the county's reference data has not reached the projections yet: try again shortly")


class KnownPlaces:
    """The places of every county version recorded; read again only when asked about one not known."""

    def __init__(self) -> None:
        self.places: frozenset[Place] = frozenset()

    async def knows(self, conn: asyncpg.Connection, place: str, place_id: str) -> bool:
        """Whether the county has (or had) this station or district; CountyNotReceived before any."""
        if (place, place_id) in self.places:
            return True
        if not plausible_id(place_id):
            return False
        rows = await conn.fetch(_PLACES)
        self.places = frozenset((r["place"], r["place_id"]) for r in rows)
        if not self.places:
            raise CountyNotReceived()
        return (place, place_id) in self.places


# The county's stations and districts this process has read (again on an id it does not know).
KNOWN_PLACES = KnownPlaces()
PLACE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such station or district: no version of the county has had it."},
    503: {"description": "The database is not answering, or the county has not reached the projections yet."},
}


async def refused_place(conn: asyncpg.Connection, place: str, place_id: str) -> JSONResponse | None:
    """None for a known station or district; a 503 while no county has arrived; a 404 (raised) else."""
    try:
        known = await KNOWN_PLACES.knows(conn, place, place_id)
    except CountyNotReceived as exc:
        response = problem(503, str(exc), retry_after_seconds=exc.retry_after_seconds)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    if not known:
        field, what = ("station_id", "station") if place == "station" else ("district_id", "district")
        raise unknown(field, f"there is no {what} with this id")
    return None
