"""The projections' query API: diaries (now and as they stood), appointment histories."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from schemas.booking import PLACE_ID
from services.common.fields import Day, Instant
from services.common.http import Authorized, plausible_id, unknown
from services.common.london import local, spoken_day, spoken_range
from services.common.runtime import Runtime
from services.projections.adapters import postcodes, store, texts
from services.projections.adapters.county import PLACE_RESPONSES, refused_place
from services.projections.domain.channels import REPLIES, Cause, Channel, channel_of
from services.projections.domain.diary import DiaryEntry

router = APIRouter()
router.include_router(postcodes.router)  # a caller's postcode -> the district's diary car
DIARY_RESPONSES = PLACE_RESPONSES


class DiaryLine(BaseModel):
    """One appointment in a diary, with its time in UTC and as London reads it."""

    appointment_id: str
    starts_at: datetime
    ends_at: datetime
    local_start: str
    when: str
    room_id: str | None
    officer_id: str | None
    status: str
    case_reference: str | None
    thrive_risk: str | None
    call_back: bool = Field(
        default=False,
        description="A person must call the caller (notifications' CallBackRequested; by ``at`` when given).",
    )


class Diary(BaseModel):
    """A station's or a diary car's day."""

    place: str
    place_id: str = Field(description=PLACE_ID)
    day: date
    day_display: str
    as_at: datetime | None
    appointments: list[DiaryLine]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _line(e: DiaryEntry, call_backs: set[str]) -> DiaryLine:
    return DiaryLine(
        appointment_id=e.appointment_id,
        starts_at=e.starts_at,
        ends_at=e.ends_at,
        local_start=local(e.starts_at).isoformat(),
        when=spoken_range(e.starts_at, e.ends_at),
        room_id=e.room_id,
        officer_id=e.officer_id,
        status=e.status,
        case_reference=e.case_reference,
        thrive_risk=e.thrive_risk,
        call_back=e.appointment_id in call_backs,
    )


async def _diary(
    request: Request, place: str, place_id: str, day: date, at: datetime | None
) -> Diary | JSONResponse:
    async with _runtime(request).db.acquire() as conn:
        if (refused := await refused_place(conn, place, place_id)) is not None:
            return refused
        if at is None:
            entries = await store.diary_rows(conn, place, place_id, day)
        else:
            entries = await store.diary_as_at(conn, place, place_id, day, at)
        call_backs = await texts.call_backs(conn, [e.appointment_id for e in entries], at)
    return Diary(
        place=place,
        place_id=place_id,
        day=day,
        day_display=spoken_day(day),
        as_at=at,
        appointments=[_line(e, call_backs) for e in entries],
    )


AtQuery = Annotated[
    Instant | None,
    Query(description="Show the diary as it stood at this instant (RFC 3339 with Z or an offset)."),
]
DayPath = Annotated[Day, Path(description="The Europe/London date, YYYY-MM-DD.")]


@router.get(
    "/diaries/stations/{station_id}/{day}", response_model=Diary, responses=DIARY_RESPONSES, tags=["diary"]
)
async def station_diary(
    request: Request, station_id: str, day: DayPath, _: Authorized, at: AtQuery = None
) -> Diary | JSONResponse:
    """A station's diary for one day; with ``at``, as it stood at that instant."""
    return await _diary(request, "station", station_id, day, at)


@router.get(
    "/diaries/diary-cars/{district_id}/{day}", response_model=Diary, responses=DIARY_RESPONSES, tags=["diary"]
)
async def diary_car_diary(
    request: Request, district_id: str, day: DayPath, _: Authorized, at: AtQuery = None
) -> Diary | JSONResponse:
    """A district diary car's day; with ``at``, as it stood at that instant."""
    return await _diary(request, "diary-car", district_id, day, at)


class HistoryItem(BaseModel):
    """One thing that happened to an appointment, and who did it."""

    event_id: str
    event_type: str
    schema_version: int
    actor: str | None
    occurred_at: datetime
    correlation_id: str
    causation_id: str | None
    source: str
    channel: Channel = Field(
        description="How it reached the system: http (a person through an HTTP API), control-room (a"
        " control-room request), roster-change (a withdrawal or an early end on the roster), waitlist"
        " (booking's waitlist on its own), text-reply (the caller's text reply, or what it led to), or"
        " service (a service's own doing)."
    )
    data: dict[str, Any]


@router.get(
    "/appointments/{appointment_id}/history",
    response_model=list[HistoryItem],
    responses={404: {"description": "No appointment with this id."}},
    tags=["audit"],
)
async def history(request: Request, appointment_id: str, _: Authorized) -> list[HistoryItem]:
    """An appointment's whole history with who did what (personal data stays sealed)."""
    rows = []
    if plausible_id(appointment_id):
        async with _runtime(request).db.acquire() as conn:
            rows = await store.appointment_history(conn, appointment_id)
            held = await store.causes(conn, (r["causation_id"] for r in rows))
    if not rows:
        raise unknown("appointment_id", "there is no appointment with this id")
    replies = {r["correlation_id"] for r in rows if r["event_type"] in REPLIES}

    def channel(r: asyncpg.Record) -> Channel:
        causation = r["causation_id"]
        cause = None if not causation else Cause(causation in held, held.get(causation))
        replied = r["correlation_id"] in replies
        return channel_of(r["event_type"], r["actor"], causation, cause, replied)

    return [
        HistoryItem(
            event_id=str(r["event_id"]),
            event_type=r["event_type"],
            schema_version=r["schema_version"],
            actor=r["actor"],
            occurred_at=r["occurred_at"],
            correlation_id=r["correlation_id"],
            causation_id=r["causation_id"],
            source=r["source"],
            channel=channel(r),
            data=json.loads(r["data"]),
        )
        for r in rows
    ]
