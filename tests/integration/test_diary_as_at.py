"""The diary as it stood at an instant reads the diary-days index and answers as a fold over every event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.base import parse_event
from services.common.auth import Role
from services.projections.adapters import store
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.diary_days import as_it_stood
from tests.integration.test_first_flow import booking_form
from tests.integration.test_projection_batches import (
    D2,
    D3,
    booking_consumer,
    clock,
    envelopes,
    projections_db,
    records,
)
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]
STATION = "hatfield"  # no other test books here
FIRST_DAY, NEXT_DAY = "2027-05-18", "2027-05-19"


async def every_event_as_at(
    conn: asyncpg.Connection, place: str, place_id: str, day: date, instant: datetime
) -> list[DiaryEntry]:
    """The diary as it stood, as it was read before the index: every booking event of the county."""
    rows = await conn.fetch(
        "select event_type, schema_version, data from event_history"
        " where appointment_id is not null and occurred_at <= $1 and topic like '%booking.events'"
        ' order by partition, "offset"',
        instant,
    )
    events = []
    for row in rows:
        data = json.loads(row["data"])
        events.append((data["appointment_id"], parse_event(row["event_type"], row["schema_version"], data)))
    return as_it_stood(events, (place, place_id, day))


def lines(entries: list[DiaryEntry]) -> list[tuple[str, str]]:
    return [(e.appointment_id, e.status) for e in entries]


async def test_the_indexed_diary_as_it_stood_answers_as_the_fold_over_every_event_at_every_instant(
    fresh_database: MakeDb,
) -> None:
    pool = await projections_db(fresh_database, "proj_as_at")
    await booking_consumer("projections-booking", pool).handle_batch(records(envelopes()))
    days = [
        ("station", "stevenage", D2), ("station", "stevenage", D3), ("station", "hitchin", D2),
        ("diary-car", "dacorum", D2), ("station", "stevenage", date(2027, 6, 4)),
    ]  # fmt: skip
    async with pool.acquire() as conn:
        for place, place_id, day in days:
            for minute in range(-1, 11):
                instant = clock(minute)
                indexed = await store.diary_as_at(conn, place, place_id, day, instant)
                assert indexed == await every_event_as_at(conn, place, place_id, day, instant), (day, minute)
        # "a" moved from the 2nd to the 3rd at minute 6; "b" is the same hour at another station.
        before, after = clock(5), clock(6)
        assert lines(await store.diary_as_at(conn, "station", "stevenage", D2, before)) == [
            ("a", "booked"), ("e", "offered"),
        ]  # fmt: skip
        assert lines(await store.diary_as_at(conn, "station", "stevenage", D3, before)) == [("c", "booked")]
        assert lines(await store.diary_as_at(conn, "station", "stevenage", D2, after)) == [("e", "offered")]
        assert lines(await store.diary_as_at(conn, "station", "stevenage", D3, after)) == [
            ("a", "rescheduled"), ("c", "booked"),
        ]  # fmt: skip
        assert lines(await store.diary_as_at(conn, "station", "hitchin", D2, after)) == [("b", "booked")]
        # The diary car's visit, and from minute 9 a window of the same car held for a caller.
        assert lines(await store.diary_as_at(conn, "diary-car", "dacorum", D2, clock(9))) == [
            ("d", "booked"), ("f", "offered"),
        ]  # fmt: skip
        assert lines(await store.diary_rows(conn, "diary-car", "dacorum", D2)) == [
            ("d", "booked"), ("f", "offered"),
        ]  # fmt: skip


async def diary(projections: ServiceProcess, day: str, at: datetime | None = None) -> list[dict[str, Any]]:
    params = {"at": at.isoformat()} if at else {}
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        response = await client.get(f"/diaries/stations/{STATION}/{day}", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["appointments"]
    return found


async def until_shown(projections: ServiceProcess, day: str, appointment_id: str, status: str) -> None:
    for _ in range(150):
        if any(
            (line["appointment_id"], line["status"]) == (appointment_id, status)
            for line in await diary(projections, day)
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{appointment_id} never showed {status} on {day}")


async def test_an_appointment_moved_to_another_day_shows_where_it_stood_before_and_after_the_move(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, projections = booking_and_projections
    before_booking = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        response = await client.post(
            f"/stations/{STATION}/appointments", json=booking_form(FIRST_DAY, "17:00")
        )
        assert response.status_code == 201, response.text
        appointment_id = response.json()["appointment_id"]
        await until_shown(projections, FIRST_DAY, appointment_id, "booked")
        before_move = datetime.now(UTC)
        moved = await client.post(
            f"/appointments/{appointment_id}/reschedule",
            json={"day": NEXT_DAY, "start": "18:00", "initiated_by": "police", "reason": "room repairs"},
        )
        assert moved.status_code == 200, moved.text
    await until_shown(projections, NEXT_DAY, appointment_id, "rescheduled")
    after_move = datetime.now(UTC)

    def ids(found: list[dict[str, Any]]) -> list[str]:
        return [line["appointment_id"] for line in found]

    assert appointment_id not in ids(await diary(projections, FIRST_DAY, before_booking))
    assert ids(await diary(projections, FIRST_DAY, before_move)).count(appointment_id) == 1
    assert appointment_id not in ids(await diary(projections, NEXT_DAY, before_move))
    assert appointment_id not in ids(await diary(projections, FIRST_DAY, after_move))
    [line] = [
        x for x in await diary(projections, NEXT_DAY, after_move) if x["appointment_id"] == appointment_id
    ]
    assert (line["status"], line["when"]) == ("rescheduled", "6pm to 7pm")
