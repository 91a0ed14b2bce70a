"""Roster's own tables beside the event store: officers by collar number, duties by place, and the
staff directory's names by sign-in subject."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from asyncpg import Range

from schemas.base import DomainEvent
from schemas.booking import Place
from schemas.roster import DutyAssigned, DutyEnded, OfficerRegistered, StaffMemberNamed


async def record(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> None:
    """Keep the officer and duty tables in step with the events just appended.

    The duty table's exclusion constraint refuses two overlapping duties of one
    officer, and the officer table's unique collar number refuses a second officer
    with the same number: either fails the whole transaction, events and all.
    """
    for event in events:
        match event:
            case OfficerRegistered():
                await conn.execute(
                    "insert into officers (officer_id, collar_number, station_id, district_id)"
                    " values ($1, $2, $3, $4)",
                    event.officer_id,
                    event.collar_number,
                    event.station_id,
                    event.district_id,
                )
            case DutyAssigned():
                await conn.execute(
                    "insert into duties (officer_id, duty_id, duty, station_id, district_id, during)"
                    " values ($1, $2, $3, $4, $5, $6)",
                    event.officer_id,
                    event.duty_id,
                    event.duty,
                    event.station_id,
                    event.district_id,
                    Range(event.starts_at, event.ends_at),
                )
            case DutyEnded():
                await conn.execute(
                    "update duties set during = tstzrange(lower(during), $3)"
                    " where officer_id = $1 and duty_id = $2",
                    event.officer_id,
                    event.duty_id,
                    event.ends_at,
                )
            case StaffMemberNamed():
                await conn.execute(
                    "insert into staff (subject, name, role) values ($1, $2, $3)"
                    " on conflict (subject) do update set name = excluded.name, role = excluded.role",
                    event.subject,
                    event.name,
                    event.role,
                )


async def officer_with_collar(conn: asyncpg.Connection, collar_number: str) -> str | None:
    """The officer who holds a collar number, if anyone does."""
    officer_id: str | None = await conn.fetchval(
        "select officer_id from officers where collar_number = $1", collar_number
    )
    return officer_id


async def officers_serving(
    conn: asyncpg.Connection, place: Place, place_id: str, starts_at: datetime, ends_at: datetime
) -> list[str]:
    """The officers with appointment or diary-car duty at a place overlapping [starts_at, ends_at)."""
    if place == "station":
        where = "duty = 'appointments' and station_id = $1"
    else:
        where = "duty = 'diary-car' and district_id = $1"
    rows = await conn.fetch(
        f"select distinct officer_id from duties where {where} and during && tstzrange($2, $3)"
        " order by officer_id",
        place_id,
        starts_at,
        ends_at,
    )
    return [r["officer_id"] for r in rows]


async def officers_at(conn: asyncpg.Connection, station_id: str | None, district_id: str | None) -> list[str]:
    """The officers registered at a station or in a district (every officer when neither is given)."""
    rows = await conn.fetch(
        "select officer_id from officers where ($1::text is null or station_id = $1)"
        " and ($2::text is null or district_id = $2) order by collar_number",
        station_id,
        district_id,
    )
    return [r["officer_id"] for r in rows]


async def staff(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    """Everyone the staff directory names: (subject, name, role), by name."""
    rows = await conn.fetch("select subject, name, role from staff order by name, subject")
    return [(r["subject"], r["name"], r["role"]) for r in rows]
