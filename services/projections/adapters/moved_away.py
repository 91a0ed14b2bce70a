"""The appointments moved away from a diary's day, and where each went.

Read from the read models already kept: ``diary_days`` names every appointment that has ever been
on a place's day; those whose diary row is now on another day or at another place moved away.
Where each went is its diary row (day, time, place, room, officer, status as it is now); how it
left is the ``AppointmentRescheduled`` that took it off this day (its time here, who asked, the
reason code, whether the caller is still to be told), read from the recorded history. An
appointment displaced by a withdrawal but not yet moved is still on the day (the diary shows it
as needing a new time); one reassigned to another officer keeps its time and place, so neither
is here. No personal data: what a diary line holds.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from schemas import booking as ev
from schemas.base import parse_event
from services.common.fields import Day
from services.common.http import Authorized
from services.common.london import local, spoken_day, spoken_range
from services.common.runtime import Runtime
from services.projections.adapters.county import PLACE_RESPONSES, refused_place

router = APIRouter()
RESPONSES = PLACE_RESPONSES


class WentTo(BaseModel):
    """Where an appointment is now."""

    place: str
    place_id: str
    district_id: str | None
    day: date
    day_display: str
    starts_at: datetime
    ends_at: datetime
    local_start: str
    when: str
    room_id: str | None
    officer_id: str | None
    status: str


class MovedAwayLine(BaseModel):
    """An appointment that was on this day and is now elsewhere."""

    appointment_id: str
    case_reference: str | None
    thrive_risk: str | None
    was_starts_at: datetime | None = Field(description="Its start on this day, before it moved.")
    was_ends_at: datetime | None
    was_when: str | None
    moved_at: datetime | None
    initiated_by: str | None = Field(description="Who asked: 'police' or 'public'.")
    reason: str | None = Field(description="Booking's RescheduleReason code.")
    caller_to_be_told: bool | None = Field(description="Moved by the police, the caller not yet told.")
    went_to: WentTo


class MovedAway(BaseModel):
    """The appointments moved away from a station's or diary car's day, in the order they were here."""

    place: str
    place_id: str
    day: date
    day_display: str
    moved_away: list[MovedAwayLine]


def stream_of(place: str, place_id: str, day: date) -> str:
    """Booking's stream of a diary day: ``station:{station_id}:{day}``, ``diary-car:{district_id}:{day}``."""
    return f"{place}:{place_id}:{day.isoformat()}"


async def moved_away(conn: asyncpg.Connection, place: str, place_id: str, day: date) -> list[MovedAwayLine]:
    """The appointments once on the place's day whose diary row is now on another day or place."""
    rows = await conn.fetch(
        "select d.* from diary_days dd join diary d using (appointment_id)"
        " where dd.place = $1 and dd.place_id = $2 and dd.local_day = $3"
        " and (d.place, d.place_id, d.local_day) <> ($1, $2, $3)",
        place, place_id, day,
    )  # fmt: skip
    if not rows:
        return []
    moves = await conn.fetch(
        "select appointment_id, schema_version, data::text as data from event_history"
        " where appointment_id = any($1::text[]) and event_type = 'AppointmentRescheduled'"
        ' order by partition, "offset"',
        [r["appointment_id"] for r in rows],
    )
    here = stream_of(place, place_id, day)
    left: dict[str, ev.AppointmentRescheduled] = {}
    for move in moves:
        event = parse_event("AppointmentRescheduled", move["schema_version"], json.loads(move["data"]))
        assert isinstance(event, ev.AppointmentRescheduled)
        if event.from_diary == here and event.diary != here:
            left[move["appointment_id"]] = event  # the last move off this day
    lines = [_line(row, left.get(row["appointment_id"])) for row in rows]
    return sorted(lines, key=lambda m: (m.was_starts_at or m.went_to.starts_at, m.appointment_id))


def _line(row: asyncpg.Record, moved: ev.AppointmentRescheduled | None) -> MovedAwayLine:
    starts, ends = row["starts_at"], row["ends_at"]
    went = WentTo(
        place=row["place"], place_id=row["place_id"], district_id=row["district_id"], day=row["local_day"],
        day_display=spoken_day(row["local_day"]), starts_at=starts, ends_at=ends,
        local_start=local(starts).isoformat(), when=spoken_range(starts, ends), room_id=row["room_id"],
        officer_id=row["officer_id"], status=row["status"],
    )  # fmt: skip
    return MovedAwayLine(
        appointment_id=row["appointment_id"], case_reference=row["case_reference"],
        thrive_risk=row["thrive_risk"],
        was_starts_at=moved.from_starts_at if moved else None,
        was_ends_at=moved.from_ends_at if moved else None,
        was_when=spoken_range(moved.from_starts_at, moved.from_ends_at) if moved else None,
        moved_at=moved.rescheduled_at if moved else None, initiated_by=moved.initiated_by if moved else None,
        reason=moved.reason if moved else None, caller_to_be_told=moved.caller_to_be_told if moved else None,
        went_to=went,
    )  # fmt: skip


async def _answer(request: Request, place: str, place_id: str, day: date) -> MovedAway | JSONResponse:
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.acquire() as conn:
        if (refused := await refused_place(conn, place, place_id)) is not None:
            return refused
        lines = await moved_away(conn, place, place_id, day)
    return MovedAway(place=place, place_id=place_id, day=day, day_display=spoken_day(day), moved_away=lines)


DayPath = Annotated[Day, Path(description="The Europe/London date, YYYY-MM-DD.")]


@router.get(
    "/diaries/stations/{station_id}/{day}/moved-away",
    response_model=MovedAway,
    responses=RESPONSES,
    tags=["diary"],
)
async def station_moved_away(
    request: Request, station_id: str, day: DayPath, _: Authorized
) -> MovedAway | JSONResponse:
    """The appointments moved away from a station's day, each with where it went and why."""
    return await _answer(request, "station", station_id, day)


@router.get(
    "/diaries/diary-cars/{district_id}/{day}/moved-away",
    response_model=MovedAway,
    responses=RESPONSES,
    tags=["diary"],
)
async def diary_car_moved_away(
    request: Request, district_id: str, day: DayPath, _: Authorized
) -> MovedAway | JSONResponse:
    """The home visits moved away from a district diary car's day, each with where it went and why."""
    return await _answer(request, "diary-car", district_id, day)
