"""Officers' names on the real servers: registered over HTTP, read back from GET /officers,
published as OfficerRegistered version 2; an older roster's version-1 registration (no name)
still reads, on the roster and from roster.events, and is given a name by registering again.

Officers 6901 to 6905 are this file's own; registrations need no day, and the one duty is in
June 2029, which no other test rosters.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.base import parse_event
from schemas.roster import OfficerRegistered, OfficerRegisteredV1
from services.common.auth import Role
from services.common.commands import Metadata, run_command
from services.common.config import Settings
from services.roster.domain.ids import officer_id_for
from services.roster.domain.state import stream_id
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth, seed_county, service, wait_for_roster_county

pytestmark = pytest.mark.integration

ROSTER_SOURCE = "urn:herts-police:station-appointments:roster"


async def started_roster(booking: ServiceProcess, log_dir: Path) -> ServiceProcess:
    process = await service("roster", log_dir).start()
    await wait_for_roster_county(process, await seed_county(booking))
    return process


@pytest.fixture(scope="module")
async def roster(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The roster service as a real process on this run's topics and database."""
    booking, _ = booking_and_projections
    process = await started_roster(booking, tmp_path_factory.mktemp("roster-names-logs"))
    yield process
    process.stop()


def supervisor(roster: ServiceProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=roster.url, headers=auth(Role.SUPERVISOR, "ps-2291"), timeout=30)


async def records_of(settings: Settings, officer_id: str, event_type: str) -> list[Any]:
    """The records of one officer and event type on the run's roster.events, once one is there."""
    topic = settings.topic("roster.events")
    for _ in range(60):
        records = await read_topic(settings.kafka_bootstrap, topic, at_least=1, wait_seconds=5)
        found = [r for r in records if r.key == officer_id.encode() and header(r, "ce_type") == event_type]
        if found:
            return found
    raise AssertionError(f"no {event_type} of {officer_id} reached roster.events")


async def test_a_name_registered_over_http_is_read_back_from_get_officers_and_published_as_version_2(
    roster: ServiceProcess, test_settings: Settings
) -> None:
    async with supervisor(roster) as client:
        registered = await client.post(
            "/officers", json={"collar_number": "6901", "station_id": "hitchin", "name": "  Priya   Shah "}
        )
        assert registered.status_code == 201, registered.text
        officer_id = registered.json()["officer_id"]
        listed = await client.get("/officers", params={"station_id": "hitchin"})
        one = await client.get(f"/officers/{officer_id}")

    assert registered.json()["name"] == "Priya Shah"
    assert listed.status_code == 200
    [mine] = [o for o in listed.json() if o["officer_id"] == officer_id]
    assert (mine["collar_number"], mine["name"]) == ("6901", "Priya Shah")
    assert one.json()["name"] == "Priya Shah"

    [record] = await records_of(test_settings, officer_id, "OfficerRegistered")
    assert header(record, "schema_version") == "2"
    read = parse_event("OfficerRegistered", 2, json.loads(record.value))
    assert isinstance(read, OfficerRegistered) and read.name == "Priya Shah"


async def test_a_name_that_is_not_one_is_refused_with_422_naming_the_field(roster: ServiceProcess) -> None:
    bodies: list[dict[str, Any]] = [
        {"name": ""},
        {"name": "     "},
        {"name": "P" * 101},
        {"name": "Priya\u0000Shah"},
        {"name": ["Priya", "Shah"]},
    ]
    async with supervisor(roster) as client:
        answers = [
            await client.post("/officers", json={"collar_number": "6902", "station_id": "hitchin", **body})
            for body in bodies
        ]
        after = await client.get(f"/officers/{officer_id_for('6902')}")

    for body, answer in zip(bodies, answers, strict=True):
        assert answer.status_code == 422, (body, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == ["name"], answer.text
    assert "at most 100 characters" in answers[2].json()["errors"][0]["reason"]
    assert after.status_code == 404  # nothing refused was recorded


async def test_a_registration_without_a_name_still_works_and_reads_as_not_recorded(
    roster: ServiceProcess,
) -> None:
    async with supervisor(roster) as client:
        registered = await client.post("/officers", json={"collar_number": "6903", "station_id": "hitchin"})
        named = await client.post(
            "/officers", json={"collar_number": "6903", "station_id": "hitchin", "name": "Tom Reid"}
        )
        again = await client.post(
            "/officers", json={"collar_number": "6903", "station_id": "hitchin", "name": "Tom Reid"}
        )
        unnamed_again = await client.post(
            "/officers", json={"collar_number": "6903", "station_id": "hitchin"}
        )
        read = await client.get(f"/officers/{registered.json()['officer_id']}")

    assert registered.status_code == 201 and registered.json()["name"] is None
    assert named.status_code == 201 and named.json()["name"] == "Tom Reid"  # OfficerRenamed
    assert again.status_code == 200 and unnamed_again.status_code == 200  # nothing new recorded
    assert read.json()["name"] == "Tom Reid"


async def register_as_an_older_roster(settings: Settings, collar: str, station: str, district: str) -> str:
    """Append OfficerRegistered version 1 to the roster's own store as the roster before names did
    (its officers row too); its relay then publishes it to roster.events as version 1."""
    officer_id = officer_id_for(collar)
    old = OfficerRegisteredV1(
        officer_id=officer_id,
        collar_number=collar,
        station_id=station,
        district_id=district,
        registered_at=datetime.now(UTC),
    )

    async def officers_row(conn: asyncpg.Connection, _: object) -> None:
        await conn.execute(
            "insert into officers (officer_id, collar_number, station_id, district_id)"
            " values ($1, $2, $3, $4)",
            officer_id, collar, station, district,
        )  # fmt: skip

    pool = await asyncpg.create_pool(settings.database_url("roster"), min_size=1, max_size=2)
    try:
        meta = Metadata(correlation_id=str(uuid.uuid4()), actor="supervisor:ps-old", now=datetime.now(UTC))
        _, appended = await run_command(
            pool,
            source=ROSTER_SOURCE,
            stream_id=stream_id(officer_id),
            initial=None,
            evolve=lambda state, _: state,
            decide=lambda _: [old],
            meta=meta,
            also_write=officers_row,
        )
    finally:
        await pool.close()
    assert appended == [old]
    return officer_id


async def test_a_version_1_registration_already_on_roster_events_still_reads_and_can_be_named(
    roster: ServiceProcess,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    _, projections = booking_and_projections
    officer_id = await register_as_an_older_roster(test_settings, "6904", "hitchin", "north-hertfordshire")

    # On the topic as the older roster published it: version 1, no name (never rewritten).
    [record] = await records_of(test_settings, officer_id, "OfficerRegistered")
    assert header(record, "schema_version") == "1"
    assert b'"name"' not in record.value

    # The roster reads it through the upcaster: on the roster, with no name recorded.
    async with supervisor(roster) as client:
        listed = await client.get("/officers", params={"station_id": "hitchin"})
        one = await client.get(f"/officers/{officer_id}")
    [mine] = [o for o in listed.json() if o["officer_id"] == officer_id]
    assert (mine["collar_number"], mine["name"]) == ("6904", None)
    assert one.status_code == 200 and one.json()["name"] is None

    # The projections read the record from roster.events too: the officer's day knows them.
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        for _ in range(150):
            day = await client.get(f"/officers/{officer_id}/days/2029-06-12")
            if day.status_code == 200:
                break
            await asyncio.sleep(0.2)
    assert day.status_code == 200, day.text
    assert day.json()["collar_number"] == "6904"

    # Registering them again the same way with a name gives them one (OfficerRenamed).
    async with supervisor(roster) as client:
        named = await client.post(
            "/officers", json={"collar_number": "6904", "station_id": "hitchin", "name": "Ruth Okafor"}
        )
        after = await client.get(f"/officers/{officer_id}")
    assert named.status_code == 201, named.text
    assert after.json()["name"] == "Ruth Okafor"
    [renamed] = await records_of(test_settings, officer_id, "OfficerRenamed")
    assert header(renamed, "schema_version") == "1"


async def test_the_roster_never_writes_an_officers_name_in_its_log(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path: Path
) -> None:
    booking, _ = booking_and_projections
    own = await started_roster(booking, tmp_path)
    try:
        async with supervisor(own) as client:
            registered = await client.post(
                "/officers",
                json={"collar_number": "6905", "station_id": "hitchin", "name": "Zebedee Quillfeather"},
            )
            renamed = await client.post(
                "/officers",
                json={"collar_number": "6905", "station_id": "hitchin", "name": "Zebedee Quillfeather-Moss"},
            )
            refused = await client.post(
                "/officers", json={"collar_number": "6905", "station_id": "gotham", "name": "Zebedee Q"}
            )
            duty = await client.post(
                f"/officers/{registered.json()['officer_id']}/duties",
                json={"duty": "appointments", "station_id": "hitchin",
                      "starts_at": "2029-06-12T16:00:00Z", "ends_at": "2029-06-12T19:00:00Z"},
            )  # fmt: skip
    finally:
        own.stop()  # its log is whole once it has stopped
    assert (registered.status_code, renamed.status_code, duty.status_code) == (201, 201, 201)
    assert refused.status_code in (409, 422)
    logged = own.log_path.read_text(errors="replace")
    assert "serving" in logged  # the log was written: its silence about names means something
    assert "Zebedee" not in logged and "Quillfeather" not in logged
