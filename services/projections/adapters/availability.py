"""The availability model on PostgreSQL: the county and the roster's capacity folded in, and served.

``fold_county`` is a part of the booking consumer's transaction and ``fold_roster`` of the roster
consumer's (``adapters.models``), so the tables are stored with the consumers' positions, after
each record was checked against the contract. ``GET /availability`` works the free capacity out
when asked, with booking's own rule (``domain.availability``), from these tables and the diary:
eventually consistent with what booking offers.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from schemas.reference import CountyReferenceLoaded
from schemas.roster import DutyAssigned, DutyEnded, OfficerWithdrawn
from services.booking.adapters.roster_facts import Withdrawn, day_bounds
from services.common.fields import Day
from services.common.http import Authorized, field_error, plausible_id, problem, unknown
from services.common.logging import get_logger
from services.common.london import local, spoken_day, spoken_range
from services.common.reference import County
from services.common.runtime import Runtime
from services.projections.adapters.batch import Batch
from services.projections.adapters.county import CountyNotReceived
from services.projections.adapters.duties import duties_and_withdrawals
from services.projections.adapters.kpis import BACKFILL_CHUNK, _readable
from services.projections.domain import availability as domain
from services.projections.domain.availability import Booked, Duty, PlaceDay, SlotCapacity

log = get_logger(__name__)
router = APIRouter()
ROSTER_READ = frozenset({DutyAssigned.event_type, DutyEnded.event_type, OfficerWithdrawn.event_type})
# At most a month at once: every slot of every place of the county is worked out when asked.
MAX_DAYS = 31
# Without ``to``: a week from the first day.
DEFAULT_DAYS = 7


async def fold_county(conn: asyncpg.Connection, batch: Batch) -> None:
    """Keep the county's latest version from a fetch of booking's events (a later one in it wins)."""
    latest: dict[str, tuple[CountyReferenceLoaded, Any]] = {}
    for env, _ in batch:
        if env.event_type == CountyReferenceLoaded.event_type:
            county = env.domain_event()
            assert isinstance(county, CountyReferenceLoaded)
            latest[county.county_id] = (county, env.event_id)
    if latest:
        await conn.executemany(
            "insert into availability_county (county_id, sha256, loaded_at, document, last_event_id)"
            " values ($1, $2, $3, $4::jsonb, $5) on conflict (county_id) do update set"
            " sha256 = excluded.sha256, loaded_at = excluded.loaded_at, document = excluded.document,"
            " last_event_id = excluded.last_event_id",
            [(c.county_id, c.sha256, c.loaded_at, json.dumps(c.document), e) for c, e in latest.values()],
        )


async def fold_roster(conn: asyncpg.Connection, batch: Batch) -> None:
    """Keep the capacity duties (an early end shortening one) and the withdrawals, in the fetch's order.

    An officer's events are all on one partition (its key), in order; each statement is one the
    record alone decides (a duty kept once, an end only ever shortens, a withdrawal kept once), so
    a redelivery changes nothing, as booking's copy of the roster does.
    """
    for env, _ in batch:
        if env.event_type not in ROSTER_READ:
            continue
        event = env.domain_event()
        if isinstance(event, DutyAssigned) and domain.is_capacity(event.duty):
            await conn.execute(
                "insert into availability_duties (duty_id, officer_id, duty, station_id, district_id,"
                " starts_at, ends_at) values ($1, $2, $3, $4, $5, $6, $7) on conflict (duty_id) do nothing",
                event.duty_id, event.officer_id, event.duty, event.station_id, event.district_id,
                event.starts_at, event.ends_at,
            )  # fmt: skip
        elif isinstance(event, DutyEnded):
            await conn.execute(
                "update availability_duties set ends_at = $2 where duty_id = $1 and $2 < ends_at",
                event.duty_id,
                event.ends_at,
            )
        elif isinstance(event, OfficerWithdrawn):
            await conn.execute(
                "insert into availability_withdrawals (withdrawal_id, officer_id, starts_at, ends_at)"
                " values ($1, $2, $3, $4) on conflict (withdrawal_id) do nothing",
                event.withdrawal_id, event.officer_id, event.starts_at, event.ends_at,
            )  # fmt: skip


async def fold_recorded_history(conn: asyncpg.Connection) -> int:
    """Fold the recorded county and roster events into the availability tables once, if a migration asks.

    For a database whose history was recorded before the model existed; run before any consumer
    applies, as the KPIs' fold is, so the model stands where the consumers' positions do.
    """
    async with conn.transaction():
        if not await conn.fetchval("delete from availability_backfill returning true"):
            return 0
        await conn.execute(
            "delete from availability_county; delete from availability_duties;"
            " delete from availability_withdrawals"
        )
        count = 0
        for where, apply in (
            (f"event_type = '{CountyReferenceLoaded.event_type}'", fold_county),
            ("topic like '%roster.events'", fold_roster),
        ):
            cursor = await conn.cursor(
                'select event_id, topic, partition, "offset", event_type, schema_version, source, subject,'
                f" actor, correlation_id, causation_id, occurred_at, data::text as data from event_history"
                f' where {where} order by partition, "offset"'
            )
            while rows := await cursor.fetch(BACKFILL_CHUNK):
                await apply(conn, _readable(rows))
                count += len(rows)
    log.info("availability folded from the recorded history", events=count)
    return count


async def county(conn: asyncpg.Connection) -> tuple[County, str] | None:
    """The county's latest version and its fingerprint (None: none has arrived)."""
    row = await conn.fetchrow("select document::text as document, sha256 from availability_county limit 1")
    if row is None:
        return None
    return County.model_validate(json.loads(row["document"])), row["sha256"]


Inputs = tuple[list[Booked], list[Duty], list[Withdrawn]]


async def inputs(conn: asyncpg.Connection, known: County, first: date, last: date) -> Inputs:
    """What is booked at every place of the county, and who is on capacity duty or withdrawn, in the range."""
    since, until = day_bounds(first)[0], day_bounds(last)[1]
    places = domain.places(known)
    booked: list[Booked] = []
    for kind in ("station", "diary-car"):
        ids = [p[1] for p, _, _ in places if p[0] == kind]
        rows = await conn.fetch(
            "select appointment_id, place, place_id, local_day, starts_at, ends_at, room_id, officer_id,"
            " status from diary where place = $1 and place_id = any($2::text[])"
            " and local_day between $3 and $4",
            kind, ids, first, last,
        )  # fmt: skip
        booked += [Booked(**dict(r)) for r in rows]
    duties, withdrawn = await duties_and_withdrawals(conn, since, until)
    return booked, duties, withdrawn


def worked_out(
    known: County, first: date, last: date, given: Inputs, now: datetime, district_id: str | None
) -> tuple[list[PlaceDay], list[domain.Earliest]]:
    """The places' days (a district's, or every place's) and the earliest free slots: the district's
    and the county's, or each district's and the county's."""
    booked, duties, withdrawn = given
    days = domain.availability(known, first, last, booked, duties, withdrawn, now, district_id)
    if district_id is not None:
        anywhere = domain.earliest_anywhere(known, first, last, booked, duties, withdrawn, now)
        return days, [domain.earliest(days, district_id), anywhere]
    return days, [*(domain.earliest(days, d.id) for d in known.districts), domain.earliest(days)]


class FreeCapacity(BaseModel):
    """One slot (or diary-car window) still to begin, and how many more appointments it takes."""

    starts_at: datetime
    ends_at: datetime
    local_start: str = Field(description="The London wall-clock start, HH:MM.")
    when: str
    free: int = Field(description="How many more appointments booking's rule would place in it (0: full).")


class DayCapacity(BaseModel):
    """A place's day: closed (and why, in booking's words), or its slots still to begin."""

    day: date
    day_display: str
    closed: str | None
    slots: list[FreeCapacity]


class PlaceCapacity(BaseModel):
    """A station (by its id) or a district's diary car (by the district's id), and its days."""

    place: Literal["station", "diary-car"]
    place_id: str
    name: str
    district_id: str
    days: list[DayCapacity]


class EarliestSlot(BaseModel):
    """The earliest free slot of a district or of the county, and where it is."""

    place: Literal["station", "diary-car"]
    place_id: str
    name: str
    district_id: str
    starts_at: datetime
    ends_at: datetime
    when: str


class EarliestFree(BaseModel):
    """The earliest free slot in the range of a district (or, district_id null, the county); null: none."""

    scope: Literal["district", "county"]
    district_id: str | None
    slot: EarliestSlot | None


class Availability(BaseModel):
    """Free capacity per place, day and slot, and the earliest free slot of the district and the county."""

    from_: date = Field(alias="from")
    to: date
    district_id: str | None
    county_sha256: str = Field(description="The county version the capacity is worked out from.")
    places: list[PlaceCapacity]
    earliest: list[EarliestFree]


AVAILABILITY_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such district in the county's latest version."},
    503: {"description": "The database is not answering, or the county has not reached the projections yet."},
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    first = first or today
    last = last or first + timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise field_error("from", "the first day comes after the last")
    if (last - first).days >= MAX_DAYS:
        raise field_error("to", f"at most {MAX_DAYS} days at once")
    return first, last


def _slot(s: SlotCapacity) -> FreeCapacity:
    return FreeCapacity(
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        local_start=local(s.starts_at).strftime("%H:%M"),
        when=f"{spoken_day(local(s.starts_at).date())}, {spoken_range(s.starts_at, s.ends_at)}",
        free=s.free,
    )


def _earliest(found: domain.Earliest) -> EarliestFree:
    slot = None
    if found.day is not None and found.slot is not None:
        d, s = found.day, found.slot
        slot = EarliestSlot(
            place="station" if d.place == "station" else "diary-car", place_id=d.place_id, name=d.name,
            district_id=d.district_id, starts_at=s.starts_at, ends_at=s.ends_at, when=_slot(s).when,
        )  # fmt: skip
    scope: Literal["district", "county"] = "county" if found.district_id is None else "district"
    return EarliestFree(scope=scope, district_id=found.district_id, slot=slot)


def _places(days: list[PlaceDay]) -> list[PlaceCapacity]:
    shown: dict[tuple[str, str], PlaceCapacity] = {}
    for d in days:
        place = shown.setdefault(
            (d.place, d.place_id),
            PlaceCapacity(
                place="station" if d.place == "station" else "diary-car", place_id=d.place_id, name=d.name,
                district_id=d.district_id, days=[],
            ),
        )  # fmt: skip
        place.days.append(
            DayCapacity(
                day=d.day, day_display=spoken_day(d.day), closed=d.closed, slots=[_slot(s) for s in d.slots]
            )
        )
    return list(shown.values())


@router.get(
    "/availability", response_model=Availability, responses=AVAILABILITY_RESPONSES, tags=["availability"]
)
async def free_capacity(
    request: Request,
    _: Authorized,
    district: Annotated[
        str | None, Query(description="One district's stations and diary car; every place without.")
    ] = None,
    from_: Annotated[
        Day | None, Query(alias="from", description="The first day, YYYY-MM-DD (London); today without.")
    ] = None,
    to: Annotated[
        Day | None, Query(description="The last day, YYYY-MM-DD; a week from the first without.")
    ] = None,
) -> Availability | JSONResponse:
    """Free capacity per station and diary car, per day and slot, and the earliest free slot in the
    district and in the county: worked out with booking's own rule from the county, the roster's duties
    and withdrawals and the diary, as the projections have them (eventually consistent with booking)."""
    now = datetime.now(UTC)
    first, last = _range(from_, to, local(now).date())
    if district is not None and not plausible_id(district):
        raise unknown("district", "there is no district with this id")
    async with _runtime(request).db.acquire() as conn:
        found = await county(conn)
        if found is None:
            exc = CountyNotReceived()
            response = problem(503, str(exc), retry_after_seconds=exc.retry_after_seconds)
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
            return response
        known, sha256 = found
        if district is not None and district not in {d.id for d in known.districts}:
            raise unknown("district", "there is no district with this id")
        given = await inputs(conn, known, first, last)
    # Worked out off the event loop: a month of the whole county is a few hundred place-days.
    days, firsts = await asyncio.to_thread(worked_out, known, first, last, given, now, district)
    return Availability.model_validate(
        {
            "from": first, "to": last, "district_id": district, "county_sha256": sha256,
            "places": _places(days), "earliest": [_earliest(e) for e in firsts],
        }
    )  # fmt: skip
