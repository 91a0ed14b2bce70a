"""The KPI read model on PostgreSQL: booking's and notifications' events folded into its tables, and read.

Each apply is a part a consumer's transaction runs (``adapters.models``), so the lines, the
scores and the districts are stored with the consumer's positions, after the consumer has
checked each record against the contract. Only this model writes its tables; an
appointment's booking events are all on one partition (its key), in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime

import asyncpg
from pydantic import ValidationError

from schemas.envelope import Envelope
from schemas.notifications import SatisfactionRecorded
from schemas.reference import CountyReferenceLoaded
from services.booking.adapters.roster_facts import Withdrawn, day_bounds
from services.common.consumer import Position
from services.common.logging import get_logger
from services.common.reference import County
from services.projections.adapters.batch import Batch, insert_rows
from services.projections.adapters.duties import duties_and_withdrawals
from services.projections.domain.availability import Duty
from services.projections.domain.kpis import (
    AppointmentLine,
    District,
    Fact,
    Row,
    Score,
    district_places,
    districts_of,
    fold,
    latest,
    offered_places,
    summarise,
)

log = get_logger(__name__)
_LINE_COLUMNS = [f.name for f in fields(AppointmentLine)]
BACKFILL_CHUNK = 2000
_ROW = [*_LINE_COLUMNS, "last_event_id"]
# The booking events that change an appointment's line: the others pass without a read.
COUNTED = frozenset(
    {
        "SlotBooked",
        "DiaryCarVisitBooked",
        "AppointmentRescheduled",
        "AppointmentReassigned",
        "AppointmentCancelled",
        "AppointmentMissed",
        "AppointmentAttended",
    }
)


def line_of(row: asyncpg.Record) -> AppointmentLine:
    """A kpi_appointments row as the fold's line."""
    return AppointmentLine(**{name: row[name] for name in _LINE_COLUMNS})


async def fold_booking_events(conn: asyncpg.Connection, batch: Batch) -> None:
    """Fold a fetch of booking events into the appointments' lines, and the county's districts."""
    facts: list[Fact] = []
    districts: dict[str, tuple[District, datetime, str | None]] = {}
    for env, _ in batch:
        if env.event_type == CountyReferenceLoaded.event_type:
            county = env.domain_event()
            assert isinstance(county, CountyReferenceLoaded)
            for d in districts_of(county.document):
                # A later version in the fetch wins; with the rooms, hours and diary car its capacity
                # is counted from (None: the version does not make a county booking could read).
                places = district_places(county.document, d.district_id)
                districts[d.district_id] = (d, county.loaded_at, json.dumps(places) if places else None)
        elif env.event_type in COUNTED and isinstance(a := env.data.get("appointment_id"), str):
            facts.append(Fact(a, env.event_id, env.domain_event()))
    if facts:
        await _fold(conn, facts)
    if districts:
        await conn.executemany(
            "insert into kpi_districts (district_id, name, goes_live, loaded_at, places)"
            " values ($1, $2, $3, $4, $5::jsonb) on conflict (district_id) do update set"
            " name = excluded.name, goes_live = excluded.goes_live, loaded_at = excluded.loaded_at,"
            " places = excluded.places",
            [(d.district_id, d.name, d.goes_live, at, places) for d, at, places in districts.values()],
        )


async def _fold(conn: asyncpg.Connection, facts: list[Fact]) -> None:
    appointments = sorted({f.appointment_id for f in facts})
    rows = await conn.fetch(
        "select * from kpi_appointments where appointment_id = any($1::text[])"
        " order by appointment_id for update",
        appointments,
    )
    lines = {r["appointment_id"]: line_of(r) for r in rows}
    stored = set(lines)
    changed = fold(lines, facts)
    # New lines go in by COPY, as the diary's do (and for the same reason safe: this consumer
    # alone writes them, an appointment's events on one partition); known ones by one upsert.
    new = [
        (*(getattr(line, c) for c in _LINE_COLUMNS), event_id)
        for a, (line, event_id) in changed.items()
        if a not in stored
    ]
    if new:
        await conn.copy_records_to_table("kpi_appointments", records=new, columns=_ROW)
    known = [
        {**{c: getattr(line, c) for c in _LINE_COLUMNS}, "last_event_id": event_id}
        for a, (line, event_id) in changed.items()
        if a in stored
    ]
    updates = ", ".join(f"{c} = excluded.{c}" for c in _ROW if c != "appointment_id")
    await insert_rows(
        conn, "kpi_appointments", known, f"on conflict (appointment_id) do update set {updates}"
    )


async def record_scores(conn: asyncpg.Connection, batch: Batch) -> None:
    """Keep each appointment's latest satisfaction score from a fetch of notifications' events.

    Scores of one appointment may be on several partitions (the topic is keyed by message),
    applied in any order: the latest recorded wins wherever it is applied, so the live model
    and a replay agree.
    """
    scores = []
    for env, _ in batch:
        if env.event_type == SatisfactionRecorded.event_type:
            event = env.domain_event()
            assert isinstance(event, SatisfactionRecorded)
            scores.append(Score(event.appointment_id, event.score, event.recorded_at))
    kept = latest(scores)
    if not kept:
        return
    await conn.executemany(
        "insert into kpi_scores (appointment_id, score, recorded_at) values ($1, $2, $3)"
        " on conflict (appointment_id) do update"
        " set score = excluded.score, recorded_at = excluded.recorded_at"
        " where (excluded.recorded_at, excluded.score) > (kpi_scores.recorded_at, kpi_scores.score)",
        [(s.appointment_id, s.score, s.recorded_at) for s in kept.values()],
    )


async def districts(conn: asyncpg.Connection) -> list[District]:
    """Every district any county version named, with its latest name and go-live date."""
    rows = await conn.fetch("select district_id, name, goes_live from kpi_districts order by district_id")
    return [District(r["district_id"], r["name"], r["goes_live"]) for r in rows]


async def kpis(
    conn: asyncpg.Connection, known: list[District], first: date, last: date, only: str | None
) -> list[Row]:
    """The KPI rows of the appointments first booked for a day in [first, last] (``only``: one district's),
    with the use of capacity of the range's days.

    Places offered are worked out when asked (``domain.kpis.offered_places``, booking's own rule)
    from each district's rooms, hours and diary car as the KPIs keep them (``kpi_districts.places``)
    and the roster's capacity duties and withdrawals as the availability model keeps them
    (``availability_duties``, ``availability_withdrawals``): a replay of ``kpis`` and
    ``availability`` rebuilds everything the figure is counted from.
    """
    since, until = day_bounds(first)[0], day_bounds(last)[1]
    where = "local_day between $1 and $2 and ($3::text is null or district_id = $3)"
    # The lines first booked for a day of the range, and those whose appointment is now on one.
    lines = await conn.fetch(
        f"select * from kpi_appointments where {where} union select * from kpi_appointments"
        " where starts_at >= $4 and starts_at < $5 and ($3::text is null or district_id = $3)",
        first, last, only, since, until,
    )  # fmt: skip
    scores = await conn.fetch(
        f"select appointment_id, score from kpi_scores where appointment_id in"
        f" (select appointment_id from kpi_appointments where {where})",
        first,
        last,
        only,
    )
    counties = {
        r["district_id"]: r["places"]
        for r in await conn.fetch(
            "select district_id, places::text as places from kpi_districts"
            " where places is not null and ($1::text is null or district_id = $1)",
            only,
        )
    }
    duties, withdrawn = await duties_and_withdrawals(conn, since, until, only)
    # Worked out off the event loop: every slot of every place of the range, as availability's are.
    return await asyncio.to_thread(
        _summary,
        [line_of(r) for r in lines],
        {r["appointment_id"]: r["score"] for r in scores},
        known, first, last, only, counties, duties, withdrawn,
    )  # fmt: skip


def _summary(
    lines: list[AppointmentLine],
    scores: Mapping[str, int],
    known: list[District],
    first: date,
    last: date,
    only: str | None,
    counties: Mapping[str, str],
    duties: list[Duty],
    withdrawn: list[Withdrawn],
) -> list[Row]:
    offered: dict[tuple[str, date], int] = {}
    for district_id, document in counties.items():
        county = County.model_validate(json.loads(document))
        mine = [d for d in duties if d.district_id == district_id]
        offered.update(offered_places(county, district_id, first, last, mine, withdrawn))
    return summarise(lines, scores, known, first, last, only=only, offered=offered)


async def fold_recorded_history(conn: asyncpg.Connection) -> int:
    """Fold the recorded history into the KPI tables, from empty, if a migration asks; how many events.

    For a database whose history was recorded before the KPI model existed (its consumers'
    positions are past those events). Run before any consumer applies: the history then holds
    exactly what the consumers have applied, so the KPIs stand where their positions stand.
    """
    async with conn.transaction():
        # Taking the marker row locks out a second process until this one has committed.
        if not await conn.fetchval("delete from kpi_backfill returning true"):
            return 0
        await conn.execute("delete from kpi_appointments; delete from kpi_scores; delete from kpi_districts")
        count = 0
        for where, apply in (
            ("topic like '%booking.events'", fold_booking_events),
            (f"event_type = '{SatisfactionRecorded.event_type}'", record_scores),
        ):
            cursor = await conn.cursor(
                'select event_id, topic, partition, "offset", event_type, schema_version, source, subject,'
                f" actor, correlation_id, causation_id, occurred_at, data::text as data from event_history"
                f' where {where} order by partition, "offset"'
            )
            while rows := await cursor.fetch(BACKFILL_CHUNK):
                await apply(conn, _readable(rows))
                count += len(rows)
    log.info("KPIs folded from the recorded history", events=count)
    return count


def _readable(rows: Sequence[asyncpg.Record]) -> Batch:
    """The recorded events as the consumers handed them over; one the contract no longer reads is left out."""
    batch: list[tuple[Envelope, Position]] = []
    unreadable: list[str] = []
    for r in rows:
        env = Envelope(
            event_id=r["event_id"], event_type=r["event_type"], schema_version=r["schema_version"],
            source=r["source"], subject=r["subject"], time=r["occurred_at"],
            correlation_id=r["correlation_id"], causation_id=r["causation_id"], actor=r["actor"],
            data=json.loads(r["data"]),
        )  # fmt: skip
        try:
            env.domain_event()
        except (ValueError, ValidationError):
            unreadable.append(r["event_type"])
            continue
        batch.append((env, Position(r["topic"], r["partition"], r["offset"])))
    if unreadable:
        log.warning(
            "recorded events the KPIs cannot read", types=sorted(set(unreadable)), count=len(unreadable)
        )
    return batch
