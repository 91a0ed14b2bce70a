"""The roster takes the county from booking's recorded CountyReferenceLoaded, never from the seed file.

Each test runs its own roster (and booking) on topics and databases of its own, so "before
any county is loaded" really is before: the session's booking has seeded the shared ones.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from cli.seed import seed
from cli.seed_roster import roster_officers
from services.common.auth import Role
from services.common.config import Settings
from services.common.db import drop_database
from services.common.reference import County, load_county
from services.common.shredding import KEYSTORE_DATABASE
from tests.support.services import (
    TEST_SECRET,
    ServiceProcess,
    auth,
    seed_county,
    service,
    wait_for_roster_county,
)
from tests.support.topics import create_topics, delete_topics

pytestmark = pytest.mark.integration

# October 2027, British Summer Time: 5pm to 8pm London.
EVENING = {"starts_at": "2027-10-04T16:00:00Z", "ends_at": "2027-10-04T19:00:00Z"}
NEW_STATION = "panshanger"  # not in the seed file

StartService = Callable[[str], ServiceProcess]


@pytest.fixture
async def own_stack(
    test_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StartService]:
    """Services on topics and databases of this test alone; stopped and dropped afterwards."""
    run = uuid.uuid4().hex[:6]
    prefix, suffix = f"{test_settings.topic_prefix}county-{run}.", f"{test_settings.db_suffix}c{run}"
    await create_topics(test_settings.kafka_bootstrap, prefix)
    logs = tmp_path_factory.mktemp("roster-county-logs")
    started: list[ServiceProcess] = []

    def start(name: str) -> ServiceProcess:
        process = service(name, logs, APPOINTMENTS_TOPIC_PREFIX=prefix, APPOINTMENTS_DB_SUFFIX=suffix)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    await delete_topics(test_settings.kafka_bootstrap, prefix)
    for database in ("roster", "booking", KEYSTORE_DATABASE):
        await drop_database(f"{test_settings.pg_url.rstrip('/')}/{database}{suffix}")


def supervisor(roster: ServiceProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=roster.url, headers=auth(Role.SUPERVISOR, "sgt-3107"), timeout=30)


def with_new_station(county: County) -> County:
    """The county with one more appointment station, as a reviewed data file might add it."""
    document = county.model_dump()
    added = {**county.station("hatfield").model_dump(), "id": NEW_STATION, "name": "Panshanger"}
    return County.model_validate({**document, "stations": [*document["stations"], added]})


async def put_on_duty(client: httpx.AsyncClient, collar: str, station: str) -> list[httpx.Response]:
    """Register an officer at a station and give them appointment duty there; both answers."""
    registered = await client.post("/officers", json={"collar_number": collar, "station_id": station})
    if registered.status_code != 201:
        return [registered]
    officer_id = registered.json()["officer_id"]
    duty: dict[str, Any] = {"duty": "appointments", "station_id": station, **EVENING}
    return [registered, await client.post(f"/officers/{officer_id}/duties", json=duty)]


async def test_a_roster_without_the_county_refuses_duties_with_503_and_still_answers_reads(
    own_stack: StartService,
) -> None:
    roster = await own_stack("roster").start()
    async with supervisor(roster) as client:
        registering = await client.post("/officers", json={"collar_number": "3107", "station_id": "hitchin"})
        duty = await client.post(
            "/officers/someone/duties", json={"duty": "appointments", "station_id": "hitchin", **EVENING}
        )
        county = await client.get("/reference/county")
        officers = await client.get("/officers")
    for refused in (registering, duty, county):
        assert refused.status_code == 503, refused.text
        assert "has not reached the roster yet: run `appointments seed`" in refused.json()["detail"]
        assert refused.headers["retry-after"] == str(refused.json()["retry_after_seconds"])
    assert (officers.status_code, officers.json()) == (200, [])


async def test_the_roster_follows_each_county_version_booking_records(own_stack: StartService) -> None:
    roster = await own_stack("roster").start()
    booking = await own_stack("booking").start()
    first = await seed_county(booking)
    await wait_for_roster_county(roster, first)
    async with supervisor(roster) as client:
        at_stevenage = await put_on_duty(client, "3108", "stevenage")
        not_yet = await put_on_duty(client, "3109", NEW_STATION)
    assert [r.status_code for r in at_stevenage] == [201, 201], at_stevenage[-1].text
    assert not_yet[0].status_code == 422 and NEW_STATION in not_yet[0].text

    second = await seed_county(booking, with_new_station(load_county()))
    assert second != first
    await wait_for_roster_county(roster, second)
    async with supervisor(roster) as client:
        at_new_station = await put_on_duty(client, "3109", NEW_STATION)
        county = await client.get("/reference/county")
    assert [r.status_code for r in at_new_station] == [201, 201], at_new_station[-1].text
    assert at_new_station[1].json()["station_id"] == NEW_STATION
    assert NEW_STATION in county.json()["stations"]


async def test_a_restarted_roster_holds_the_newest_county_from_its_own_copy(own_stack: StartService) -> None:
    roster = await own_stack("roster").start()
    booking = await own_stack("booking").start()
    first = await seed_county(booking)
    second = await seed_county(booking, with_new_station(load_county()))
    await wait_for_roster_county(roster, second)
    roster.stop()
    await roster.start()  # healthy means wired: the county is read from the roster's table
    async with supervisor(roster) as client:
        county = await client.get("/reference/county")
    assert (county.status_code, county.json()["sha256"]) == (200, second)
    assert first != second


async def test_appointments_seed_waits_for_the_roster_to_take_the_county_before_seeding_it(
    own_stack: StartService, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster = await own_stack("roster").start()  # a fresh state: no county anywhere yet
    booking = await own_stack("booking").start()
    monkeypatch.setenv("APPOINTMENTS_TOKEN_SECRET", TEST_SECRET)
    command = typer.Typer()
    command.command()(seed)
    args = ["--booking-url", booking.url, "--roster-url", roster.url, "--roster-days", "1"]
    result = await asyncio.to_thread(CliRunner().invoke, command, args)
    assert result.exit_code == 0, result.output
    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.CALL_TAKER)) as client:
        county = await client.get("/reference/county")
        officers = await client.get("/officers", params={"station_id": "stevenage"})
    sha = county.json()["sha256"]
    assert f"Roster: took county version {sha[:12]} from booking.events." in result.output
    invented = [o.collar_number for o in roster_officers(load_county()) if o.station_id == "stevenage"]
    assert sorted(o["collar_number"] for o in officers.json()) == sorted(invented), officers.text
