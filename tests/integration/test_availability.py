"""Availability on the real Kafka and PostgreSQL: booking's own free slots, and a replay equal to live.

St Albans (its station and its diary car) on Tuesday 9 and Wednesday 10 May 2028, days no other
test uses, past the blanket roster's span, so only this test's officers give capacity there
(BST: 17:00 London is 16:00 UTC). The roster puts an officer on appointment duty at the station
on the 9th, withdrawn for its middle hour, and one on the diary car on the 10th whose duty ends
early; a call taker books the station's first slot through booking. The projections then show,
slot by slot, what booking's own free-slot answers show, with how many more each takes, and the
earliest free slot of the district and the county; a replay of the model alone rebuilds its
tables row for row.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.envelope import source_of
from schemas.reference import CountyReferenceLoaded
from services.common.auth import Role
from services.common.config import Settings
from services.common.consumer import Position
from services.common.db import migrate
from services.common.reference import load_county
from services.common.staging import outgoing
from services.common.unit_of_work import Metadata
from services.projections.adapters import availability as availability_store
from services.projections.adapters import batch
from services.projections.adapters.models import FEEDS, models_named
from services.projections.adapters.replay import REPLACED, Replay
from services.projections.main import MIGRATIONS
from tests.integration.test_first_flow import booking_form
from tests.integration.test_projection_batches import migrated_up_to
from tests.integration.test_replay import caught_up
from tests.support import roster
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
DISTRICT = STATION = "st-albans"
FIRST, LAST = "2028-05-09", "2028-05-10"
TABLES = {
    "availability_county": "county_id",
    "availability_duties": "duty_id",
    "availability_withdrawals": "withdrawal_id",
}


def utc(day: int, hour: int) -> datetime:
    return datetime(2028, 5, day, hour, tzinfo=UTC)


def z(day: int, hour: int) -> str:
    return f"2028-05-{day:02d}T{hour:02d}:00:00Z"


def roster_events(run: str) -> list[Any]:
    at_station = roster.duty(
        f"avail-{run}-a", station=STATION, district=DISTRICT, starts_at=utc(9, 16), ends_at=utc(9, 19)
    )
    on_car = roster.duty(
        f"avail-{run}-b", station=None, district=DISTRICT, starts_at=utc(10, 7), ends_at=utc(10, 19)
    )
    return [
        at_station,
        roster.withdrawal(at_station.officer_id, utc(9, 17), utc(9, 18)),
        on_car,
        roster.duty_ended(on_car, utc(10, 11)),
    ]


@pytest.fixture
async def owner(test_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn: asyncpg.Connection = await asyncpg.connect(test_settings.database_url("projections"))
    yield conn
    await conn.close()


async def offered(booking: ServiceProcess) -> dict[str, list[str]]:
    """Booking's own free slots and windows at St Albans over the two days."""
    params = {"from": FIRST, "to": LAST}
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        station = await client.get(f"/stations/{STATION}/free-slots", params=params)
        car = await client.get(f"/diary-cars/{DISTRICT}/free-windows", params=params)
    assert station.status_code == car.status_code == 200, (station.text, car.text)
    return {
        "station": [s["starts_at"] for s in station.json()],
        "diary-car": [s["starts_at"] for s in car.json()],
    }


async def until_offered(booking: ServiceProcess, expected: dict[str, list[str]]) -> None:
    shown: dict[str, list[str]] = {}
    for _ in range(300):
        shown = await offered(booking)
        if shown == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"booking never offered {expected}: {shown}")


async def available(
    projections: ServiceProcess, params: dict[str, str], role: Role = Role.CALL_TAKER
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(role)) as client:
        return await client.get("/availability", params=params)


def capacity(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, int]]:
    """(place, day) -> {slot's start: free} of the answer's places."""
    return {
        (p["place"], d["day"]): {s["starts_at"]: s["free"] for s in d["slots"]}
        for p in body["places"]
        for d in p["days"]
    }


EXPECTED = {
    ("station", "2028-05-09"): {z(9, 16): 0, z(9, 17): 0, z(9, 18): 1},  # booked, withdrawn, free
    ("station", "2028-05-10"): {z(10, 16): 0, z(10, 17): 0, z(10, 18): 0},  # nobody on duty
    ("diary-car", "2028-05-09"): {z(9, h): 0 for h in (7, 9, 11, 13, 15, 17)},
    # The car's duty ended at 11:00 UTC: its first two windows only.
    ("diary-car", "2028-05-10"): {z(10, 7): 1, z(10, 9): 1, **{z(10, h): 0 for h in (11, 13, 15, 17)}},
}


async def until_available(projections: ServiceProcess) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(300):
        response = await available(projections, {"district": DISTRICT, "from": FIRST, "to": LAST})
        if response.status_code == 200:
            body = response.json()
            if capacity(body) == EXPECTED:
                return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"the projections never showed {EXPECTED}: {body and capacity(body)}")


async def test_free_capacity_is_what_booking_offers_with_the_earliest_free_slot_and_a_replay_equal_to_live(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    owner: asyncpg.Connection,
) -> None:
    booking, projections = booking_and_projections
    await roster.publish(test_settings, roster_events(uuid.uuid4().hex[:8]))
    await until_offered(booking, {"station": [z(9, 16), z(9, 18)], "diary-car": [z(10, 7), z(10, 9)]})
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        answer = await client.post(f"/stations/{STATION}/appointments", json=booking_form(FIRST, "17:00"))
        assert answer.status_code == 201, answer.text
    booking_now = await offered(booking)
    assert booking_now == {"station": [z(9, 18)], "diary-car": [z(10, 7), z(10, 9)]}

    body = await until_available(projections)
    # Slot by slot, what booking offers is what has room for one more.
    for kind in ("station", "diary-car"):
        free = sorted(
            start for (k, _), slots in capacity(body).items() if k == kind for start, n in slots.items() if n
        )
        assert free == booking_now[kind], kind
    assert [(p["place"], p["place_id"], p["name"]) for p in body["places"]] == [
        ("station", STATION, "St Albans station"), ("diary-car", DISTRICT, "St Albans diary car"),
    ]  # fmt: skip
    day = body["places"][0]["days"][0]
    assert (day["closed"], day["slots"][2]["local_start"], day["slots"][2]["when"]) == (
        None, "19:00", "Tuesday 9 May 2028, 7pm to 8pm",
    )  # fmt: skip
    # The earliest free slot: the district's, and the county's (nobody else is on duty these days).
    earliest = [(e["scope"], e["district_id"], e["slot"]) for e in body["earliest"]]
    assert [(scope, d, slot and (slot["place_id"], slot["starts_at"])) for scope, d, slot in earliest] == [
        ("district", DISTRICT, (STATION, z(9, 18))), ("county", None, (STATION, z(9, 18))),
    ]  # fmt: skip

    # Who may ask, a district no county has, a range backwards or too long.
    assert (await available(projections, {"district": DISTRICT}, Role.SUPERVISOR)).status_code == 200
    assert (await available(projections, {}, Role.AUDITOR)).status_code == 403
    missing = await available(projections, {"district": "atlantis"})
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "district"
    backwards = await available(projections, {"from": LAST, "to": FIRST})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "from"
    too_long = await available(projections, {"from": FIRST, "to": "2028-07-01"})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "to"

    # A replay of the model alone rebuilds its tables row for row as the live ones stood.
    await caught_up(owner, test_settings)
    report = await Replay(
        test_settings, models_named(["availability"]), batch_records=6, keep_replaced=True
    ).run()
    assert report.models == ["availability"] and report.outcomes["applied"] > 0
    for name, key in TABLES.items():
        live = await owner.fetch(f"select * from {REPLACED}.{name} order by {key}")
        rebuilt = await owner.fetch(f"select * from public.{name} order by {key}")
        assert [dict(r) for r in rebuilt] == [dict(r) for r in live], name
        assert live, name
    again = await available(projections, {"district": DISTRICT, "from": FIRST, "to": LAST})
    assert capacity(again.json()) == EXPECTED


MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]


async def tables(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    async with pool.acquire() as conn:
        return {
            name: [dict(r) for r in await conn.fetch(f"select * from {name} order by {key}")]
            for name, key in TABLES.items()
        }


async def test_a_history_recorded_before_the_availability_model_existed_is_folded_into_it_once_at_start(
    fresh_database: MakeDb, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor="system:test-availability", now=now)
    document = load_county().model_dump(mode="json")
    county = CountyReferenceLoaded(
        county_id="hertfordshire", sha256="0" * 64, document=document, loaded_at=now
    )
    booking = [
        (outgoing(county, "county", source_of("booking"), meta).envelope, Position("booking.events", 0, 0))
    ]
    rostered = [
        (
            outgoing(e, f"officer:{e.officer_id}", source_of("roster"), meta).envelope,
            Position("roster.events", 0, n),
        )
        for n, e in enumerate(roster_events("backfill"))
    ]
    feeds = {f.consumer: f for f in FEEDS}
    live = await fresh_database("proj_avail_live")
    await migrate(live, [MIGRATIONS])
    async with live.acquire() as conn, conn.transaction():
        await feeds["projections-booking"].apply_batch(conn, booking)
        await feeds["projections-roster"].apply_batch(conn, rostered)
    older = await migrated_up_to(
        fresh_database, tmp_path, *(f.name for f in sorted(MIGRATIONS.glob("*.sql")) if f.name < "010"),
    )  # fmt: skip
    async with older.acquire() as conn:
        await batch.record_events(conn, [*booking, *rostered])
    await migrate(older, [MIGRATIONS])
    async with older.acquire() as conn:
        assert await availability_store.fold_recorded_history(conn) == len(booking) + len(rostered)
        assert await availability_store.fold_recorded_history(conn) == 0  # once only
    folded, applied = await tables(older), await tables(live)
    assert folded == applied and all(applied.values())
    # The early end shortened the car's duty; the withdrawal is kept as published.
    assert [d["ends_at"] for d in applied["availability_duties"] if d["duty"] == "diary-car"] == [utc(10, 11)]
    async with live.acquire() as conn:
        assert await availability_store.fold_recorded_history(conn) == 0
