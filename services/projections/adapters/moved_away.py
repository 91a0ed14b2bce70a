"""The appointments moved away from a diary's day, and where each went.

Read from the read models already kept: ``diary_days`` names every appointment that has ever been
on a place's day; those whose diary row is now on another day or at another place moved away.
Where each went is its diary row (day, time, place, room, officer, status as it is now); how it
left is the ``AppointmentRescheduled`` that took it off this day (its time here, who asked, the
reason code, whether the caller is still to be told), read from the recorded history. An
appointment displaced by a withdrawal but not yet moved is still on the day (the diary shows it
as needing a new time); one reassigned to another officer keeps its time and place, so neither
is here. No personal data: what a diary line holds.

With ``at``, the list as it stood at that instant: the diary's fold over the recorded events up
to the instant of the appointments ``diary_days`` had on the day by then (as the diary as it
stood reads them), those then elsewhere, with where they then were (``domain.moved_away``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from schemas import booking as ev
from schemas.base import parse_event
from services.common.fields import Day, Instant
from services.common.http import Authorized
from services.common.london import local, spoken_day, spoken_range
from services.common.runtime import Runtime
from services.projections.adapters.county import PLACE_RESPONSES, refused_place
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.moved_away import moved_off

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
    as_at: datetime | None = Field(
        default=None, description="The instant the list is as it stood at; null: now."
    )
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
    lines = [
        _line(
            r["appointment_id"],
            r["case_reference"],
            r["thrive_risk"],
            left.get(r["appointment_id"]),
            _went(r),
        )
        for r in rows
    ]
    return sorted(lines, key=lambda m: (m.was_starts_at or m.went_to.starts_at, m.appointment_id))


def _went(row: asyncpg.Record) -> WentTo:
    """Where an appointment is now: its diary row."""
    starts, ends = row["starts_at"], row["ends_at"]
    return WentTo(
        place=row["place"], place_id=row["place_id"], district_id=row["district_id"], day=row["local_day"],
        day_display=spoken_day(row["local_day"]), starts_at=starts, ends_at=ends,
        local_start=local(starts).isoformat(), when=spoken_range(starts, ends), room_id=row["room_id"],
        officer_id=row["officer_id"], status=row["status"],
    )  # fmt: skip


def _went_then(entry: DiaryEntry) -> WentTo:
    """Where an appointment stood at an instant: the diary's fold of its events up to then."""
    starts, ends = entry.starts_at, entry.ends_at
    return WentTo(
        place=entry.place, place_id=entry.place_id, district_id=entry.district_id, day=entry.local_day,
        day_display=spoken_day(entry.local_day), starts_at=starts, ends_at=ends,
        local_start=local(starts).isoformat(), when=spoken_range(starts, ends), room_id=entry.room_id,
        officer_id=entry.officer_id, status=entry.status,
    )  # fmt: skip


def _line(
    appointment_id: str,
    case_reference: str | None,
    thrive_risk: str | None,
    moved: ev.AppointmentRescheduled | None,
    went: WentTo,
) -> MovedAwayLine:
    return MovedAwayLine(
        appointment_id=appointment_id, case_reference=case_reference, thrive_risk=thrive_risk,
        was_starts_at=moved.from_starts_at if moved else None,
        was_ends_at=moved.from_ends_at if moved else None,
        was_when=spoken_range(moved.from_starts_at, moved.from_ends_at) if moved else None,
        moved_at=moved.rescheduled_at if moved else None, initiated_by=moved.initiated_by if moved else None,
        reason=moved.reason if moved else None, caller_to_be_told=moved.caller_to_be_told if moved else None,
        went_to=went,
    )  # fmt: skip


async def moved_away_as_at(
    conn: asyncpg.Connection, place: str, place_id: str, day: date, instant: datetime
) -> list[MovedAwayLine]:
    """The appointments moved away from the place's day as it stood at ``instant``, and where they then were.

    The same events as the diary as it stood (``store.diary_as_at``): those up to the instant of
    the appointments that had been on the day by then, folded by the diary's own fold.
    """
    rows = await conn.fetch(
        "select appointment_id, event_type, schema_version, data::text as data from event_history"
        " where appointment_id in (select appointment_id from diary_days"
        "   where place = $1 and place_id = $2 and local_day = $3 and since <= $4)"
        " and occurred_at <= $4 and topic like '%booking.events'"
        ' order by partition, "offset"',
        place, place_id, day, instant,
    )  # fmt: skip
    events = (
        (r["appointment_id"], parse_event(r["event_type"], r["schema_version"], json.loads(r["data"])))
        for r in rows
    )
    return [
        _line(
            m.entry.appointment_id, m.entry.case_reference, m.entry.thrive_risk, m.move, _went_then(m.entry)
        )
        for m in moved_off(events, (place, place_id, day))
    ]


async def _answer(
    request: Request, place: str, place_id: str, day: date, at: datetime | None
) -> MovedAway | JSONResponse:
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.acquire() as conn:
        if (refused := await refused_place(conn, place, place_id)) is not None:
            return refused
        if at is None:
            lines = await moved_away(conn, place, place_id, day)
        else:
            lines = await moved_away_as_at(conn, place, place_id, day, at)
    return MovedAway(
        place=place, place_id=place_id, day=day, day_display=spoken_day(day), as_at=at, moved_away=lines
    )


DayPath = Annotated[Day, Path(description="The Europe/London date, YYYY-MM-DD.")]
AtQuery = Annotated[
    Instant | None,
    Query(description="The list as it stood at this instant (RFC 3339 with Z or an offset)."),
]


@router.get(
    "/diaries/stations/{station_id}/{day}/moved-away",
    response_model=MovedAway,
    responses=RESPONSES,
    tags=["diary"],
)
async def station_moved_away(
    request: Request, station_id: str, day: DayPath, _: Authorized, at: AtQuery = None
) -> MovedAway | JSONResponse:
    """The appointments moved away from a station's day, with where each went and why; ``at``: as then."""
    return await _answer(request, "station", station_id, day, at)


@router.get(
    "/diaries/diary-cars/{district_id}/{day}/moved-away",
    response_model=MovedAway,
    responses=RESPONSES,
    tags=["diary"],
)
async def diary_car_moved_away(
    request: Request, district_id: str, day: DayPath, _: Authorized, at: AtQuery = None
) -> MovedAway | JSONResponse:
    """The home visits moved away from a diary car's day, with where each went and why; ``at``: as then."""
    return await _answer(request, "diary-car", district_id, day, at)
