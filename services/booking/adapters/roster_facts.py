"""Booking's reading of roster.events: who gives appointment capacity at each place and time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import asyncpg

from services.booking.domain.calendar import local_date, to_utc
from services.booking.domain.commands import OfficerOnDuty
from services.booking.domain.state import Diary

CAPACITY_DUTIES = ("appointments", "diary-car")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC span of a Europe/London calendar day (23 or 25 hours at a clock change)."""
    return to_utc(day, time(0), field="day"), to_utc(day + timedelta(days=1), time(0), field="day")


def net_of(
    span: tuple[datetime, datetime], withdrawn: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """What is left of a duty span once the withdrawn spans are cut out of it."""
    pieces = [span]
    for w_start, w_end in sorted(withdrawn):
        kept: list[tuple[datetime, datetime]] = []
        for start, end in pieces:
            if w_end <= start or end <= w_start:
                kept.append((start, end))
                continue
            if start < w_start:
                kept.append((start, w_start))
            if w_end < end:
                kept.append((w_end, end))
        pieces = kept
    return pieces


async def on_duty(conn: asyncpg.Connection, diary: Diary) -> tuple[OfficerOnDuty, ...]:
    """The officers on appointment (or diary-car) duty for a diary day, net of withdrawals."""
    first, last = day_bounds(diary.day)
    if diary.place == "station":
        rows = await conn.fetch(
            "select duty_id, officer_id, starts_at, ends_at from duties where duty = 'appointments'"
            " and station_id = $1 and starts_at < $3 and ends_at > $2",
            diary.place_id,
            first,
            last,
        )
    else:
        rows = await conn.fetch(
            "select duty_id, officer_id, starts_at, ends_at from duties where duty = 'diary-car'"
            " and district_id = $1 and starts_at < $3 and ends_at > $2",
            diary.place_id,
            first,
            last,
        )
    officers = {r["officer_id"] for r in rows}
    withdrawn: dict[str, list[tuple[datetime, datetime]]] = {o: [] for o in officers}
    if officers:
        for w in await conn.fetch(
            "select officer_id, starts_at, ends_at from withdrawals"
            " where officer_id = any($1::text[]) and starts_at < $3 and ends_at > $2",
            list(officers),
            first,
            last,
        ):
            withdrawn[w["officer_id"]].append((w["starts_at"], w["ends_at"]))
    spans = [
        OfficerOnDuty(officer_id=r["officer_id"], starts_at=start, ends_at=end)
        for r in rows
        for start, end in net_of((r["starts_at"], r["ends_at"]), withdrawn[r["officer_id"]])
    ]
    return tuple(sorted(spans, key=lambda s: (s.starts_at, s.officer_id)))


async def places_of(
    conn: asyncpg.Connection, officer_id: str, starts_at: datetime, ends_at: datetime
) -> list[Diary]:
    """The diary days an officer's capacity duties touch within a span (for withdrawals)."""
    rows = await conn.fetch(
        "select duty, station_id, district_id, greatest(starts_at, $2) as s, least(ends_at, $3) as e"
        " from duties where officer_id = $1 and duty = any($4::text[]) and starts_at < $3 and ends_at > $2",
        officer_id,
        starts_at,
        ends_at,
        list(CAPACITY_DUTIES),
    )
    diaries: set[Diary] = set()
    for r in rows:
        place: tuple[str, str] = (
            ("station", r["station_id"]) if r["duty"] == "appointments" else ("diary-car", r["district_id"])
        )
        day = local_date(r["s"])
        while True:
            diaries.add(Diary("station" if place[0] == "station" else "diary-car", place[1], day))
            day += timedelta(days=1)
            if day_bounds(day)[0] >= r["e"]:
                break
    return sorted(diaries, key=lambda d: (d.day, d.place, d.place_id))
