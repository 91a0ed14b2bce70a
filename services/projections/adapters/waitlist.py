"""The waitlist model on PostgreSQL: booking's events folded into ``waitlist_entries``, and served.

``fold_booking_events`` is a part of the booking consumer's transaction (``adapters.models``), so
the lines are stored with the consumer's positions, after each record was checked against the
contract. ``GET /waitlists/stations/{station_id}`` and ``GET /waitlists/diary-cars/{district_id}``
answer who waits for the place, in the order booking offers to them, and the offers out; no caller,
no sealed words (booking's own ``GET /waitlist/{appointment_id}`` answers for one entry).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from schemas.booking import PLACE_ID
from services.common.fields import Day
from services.common.http import Authorized, field_error
from services.common.logging import get_logger
from services.common.london import local, spoken_day, spoken_moment, spoken_range, spoken_time
from services.common.runtime import Runtime
from services.projections.adapters.batch import Batch, insert_rows
from services.projections.adapters.county import PLACE_RESPONSES, refused_place
from services.projections.adapters.kpis import BACKFILL_CHUNK, _readable
from services.projections.domain import waitlist as domain
from services.projections.domain.waitlist import Entry, Fact

log = get_logger(__name__)
router = APIRouter()
_COLUMNS = [f.name for f in fields(Entry)]
_ROW = [*_COLUMNS, "last_event_id"]
# The booking events that can change a waitlist entry: the others pass without a read.
READ = frozenset(
    {
        "WaitlistJoined",
        "AppointmentOffered",
        "OfferLapsed",
        "AppointmentCancelled",
        "SlotBooked",
        "DiaryCarVisitBooked",
        "WaitlistLeft",
    }
)
# Events that only ever change an entry already joined (a booking or cancellation of any other
# appointment is read for nothing): a fetch with none of the waitlist's own needs no read at all.
_OWN = frozenset({"WaitlistJoined", "AppointmentOffered", "OfferLapsed", "WaitlistLeft"})


def entry_of(row: asyncpg.Record) -> Entry:
    """A waitlist_entries row as the fold's entry."""
    return Entry(**{name: row[name] for name in _COLUMNS})


async def fold_booking_events(conn: asyncpg.Connection, batch: Batch) -> None:
    """Fold a fetch of booking events into the waitlist's lines (an entry's events are on one partition)."""
    facts = [
        Fact(a, env.event_id, env.domain_event())
        for env, _ in batch
        if env.event_type in READ and isinstance(a := env.data.get("appointment_id"), str)
    ]
    if not facts:
        return
    ids = sorted({f.appointment_id for f in facts})
    rows = await conn.fetch(
        "select * from waitlist_entries where appointment_id = any($1::text[])"
        " order by appointment_id for update",
        ids,
    )
    if not rows and not any(f.event.event_type in _OWN for f in facts):
        return  # bookings and cancellations of appointments nobody waited under
    entries = {r["appointment_id"]: entry_of(r) for r in rows}
    changed = domain.fold(entries, facts)
    lines = [
        {**{c: getattr(e, c) for c in _COLUMNS}, "last_event_id": event_id}
        for e, event_id in changed.values()
    ]
    updates = ", ".join(f"{c} = excluded.{c}" for c in _ROW if c != "appointment_id")
    await insert_rows(
        conn, "waitlist_entries", lines, f"on conflict (appointment_id) do update set {updates}"
    )


async def fold_recorded_history(conn: asyncpg.Connection) -> int:
    """Fold the recorded booking events into the waitlist once, if a migration asks; how many events.

    For a database whose history was recorded before the model existed; run before any consumer
    applies, as the KPIs' fold is, so the model stands where the consumer's positions do.
    """
    async with conn.transaction():
        if not await conn.fetchval("delete from waitlist_backfill returning true"):
            return 0
        await conn.execute("delete from waitlist_entries")
        types = ", ".join(f"'{t}'" for t in sorted(READ))
        cursor = await conn.cursor(
            'select event_id, topic, partition, "offset", event_type, schema_version, source, subject,'
            " actor, correlation_id, causation_id, occurred_at, data::text as data from event_history"
            f" where topic like '%booking.events' and event_type in ({types})"
            ' order by partition, "offset"'
        )
        count = 0
        while rows := await cursor.fetch(BACKFILL_CHUNK):
            await fold_booking_events(conn, _readable(rows))
            count += len(rows)
    log.info("waitlist folded from the recorded history", events=count)
    return count


async def open_entries(
    conn: asyncpg.Connection, place: str, place_id: str, first: date | None, last: date | None
) -> list[Entry]:
    """A place's entries still waiting or holding an offer, whose days meet the range, first come first."""
    rows = await conn.fetch(
        "select * from waitlist_entries where place = $1 and place_id = $2"
        " and state in ('waiting', 'offered') and ($3::date is null or to_day >= $3)"
        " and ($4::date is null or from_day <= $4) order by joined_at, appointment_id",
        place, place_id, first, last,
    )  # fmt: skip
    return domain.waiting((entry_of(r) for r in rows), first, last)


class OfferOut(BaseModel):
    """The slot held for a caller until the offer lapses."""

    starts_at: datetime
    ends_at: datetime
    when: str = Field(description="The slot as London reads it: day and time.")
    room_id: str | None
    officer_id: str | None
    offered_at: datetime
    expires_at: datetime
    expires: str = Field(description="When the offer lapses, London time.")


class WaitingCaller(BaseModel):
    """One caller waiting (no name, no number, no words): where they stand, since when, and their offer."""

    position: int = Field(description="1 for the first to be offered a slot that fits their days.")
    appointment_id: str = Field(description="The waitlist entry's id (booking's GET /waitlist/{id}).")
    case_reference: str
    thrive_risk: str
    incident_grade: Literal["scheduled"] = Field(
        description="Only scheduled incidents wait (booking refuses urgent and priority ones)."
    )
    from_day: date
    to_day: date
    days: str = Field(description="The days that would suit them, as London reads them.")
    joined_at: datetime
    since: str = Field(description="When they joined, London time.")
    state: Literal["waiting", "offered"]
    offers: int = Field(description="How many slots have been held for them so far.")
    lapsed: int
    declined: int
    offer: OfferOut | None = Field(description="The slot held for them now, if any.")


class PlaceWaitlist(BaseModel):
    """Who waits for a station or diary car, in the order booking offers to them, and the offers out."""

    place: Literal["station", "diary-car"]
    place_id: str = Field(description=PLACE_ID)
    from_: date | None = Field(alias="from")
    to: date | None
    offers_out: int = Field(description="How many of them hold an offer now.")
    waiting: list[WaitingCaller]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _days(first: date, last: date) -> str:
    return spoken_day(first) if first == last else f"{spoken_day(first)} to {spoken_day(last)}"


def _caller(position: int, e: Entry) -> WaitingCaller:
    offer = None
    if e.state == "offered" and e.offer_starts_at and e.offer_ends_at and e.offered_at and e.offer_expires_at:
        when = spoken_range(e.offer_starts_at, e.offer_ends_at)
        offer = OfferOut(
            starts_at=e.offer_starts_at, ends_at=e.offer_ends_at,
            when=f"{spoken_day(local(e.offer_starts_at).date())}, {when}",
            room_id=e.offer_room_id, officer_id=e.offer_officer_id, offered_at=e.offered_at,
            expires_at=e.offer_expires_at, expires=spoken_time(e.offer_expires_at),
        )  # fmt: skip
    return WaitingCaller(
        position=position, appointment_id=e.appointment_id, case_reference=e.case_reference,
        thrive_risk=e.thrive_risk, incident_grade="scheduled", from_day=e.from_day, to_day=e.to_day,
        days=_days(e.from_day, e.to_day), joined_at=e.joined_at, since=spoken_moment(e.joined_at),
        state="offered" if e.state == "offered" else "waiting", offers=e.offers, lapsed=e.lapsed,
        declined=e.declined, offer=offer,
    )  # fmt: skip


async def _waitlist(
    request: Request,
    place: Literal["station", "diary-car"],
    place_id: str,
    first: date | None,
    last: date | None,
) -> PlaceWaitlist | JSONResponse:
    if first is not None and last is not None and first > last:
        raise field_error("from", "the first day comes after the last")
    async with _runtime(request).db.acquire() as conn:
        if (refused := await refused_place(conn, place, place_id)) is not None:
            return refused
        entries = await open_entries(conn, place, place_id, first, last)
    callers = [_caller(n, e) for n, e in enumerate(entries, start=1)]
    return PlaceWaitlist.model_validate(
        {
            "place": place, "place_id": place_id, "from": first, "to": last, "waiting": callers,
            "offers_out": sum(c.offer is not None for c in callers),
        }
    )  # fmt: skip


FromQuery = Annotated[
    Day | None,
    Query(alias="from", description="Only callers whose days reach this day, YYYY-MM-DD (London)."),
]
ToQuery = Annotated[Day | None, Query(description="Only callers whose days begin by this day, YYYY-MM-DD.")]


@router.get(
    "/waitlists/stations/{station_id}",
    response_model=PlaceWaitlist,
    responses=PLACE_RESPONSES,
    tags=["waitlist"],
)
async def station_waitlist(
    request: Request, station_id: str, _: Authorized, from_: FromQuery = None, to: ToQuery = None
) -> PlaceWaitlist | JSONResponse:
    """Who waits for a station, in the order booking offers freed slots to them, and the offers out."""
    return await _waitlist(request, "station", station_id, from_, to)


@router.get(
    "/waitlists/diary-cars/{district_id}",
    response_model=PlaceWaitlist,
    responses=PLACE_RESPONSES,
    tags=["waitlist"],
)
async def diary_car_waitlist(
    request: Request, district_id: str, _: Authorized, from_: FromQuery = None, to: ToQuery = None
) -> PlaceWaitlist | JSONResponse:
    """Who waits for a district's diary car, in the order booking offers freed windows to them."""
    return await _waitlist(request, "diary-car", district_id, from_, to)
