"""The roster on real Kafka and PostgreSQL: supervisors register officers, assign duties and
withdraw them; every change reaches roster.events keyed by officer id, exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from cli.seed_roster import invented_name, seed_roster
from services.common.auth import Role
from services.common.config import Settings
from tests.support.kafka_reader import header, read_topic
from tests.support.services import (
    ServiceProcess,
    auth,
    seed_county,
    service,
    token,
    wait_for_roster_county,
)

pytestmark = pytest.mark.integration

# September 2027: clear of the dates and stations the booking tests roster for themselves.
DAY = "2027-09-06"
EVENING = ("2027-09-06T16:00:00Z", "2027-09-06T19:00:00Z")  # 5pm to 8pm, British Summer Time


@pytest.fixture(scope="module")
async def roster(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The roster service, running as a real process against this run's topics and database.

    It checks duties against the county booking recorded, so it waits for that version.
    """
    booking, _ = booking_and_projections
    process = await service("roster", tmp_path_factory.mktemp("roster-logs")).start()
    await wait_for_roster_county(process, await seed_county(booking))
    yield process
    process.stop()


def supervisor(roster: ServiceProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=roster.url, headers=auth(Role.SUPERVISOR, "sgt-2291"), timeout=30)


async def register(client: httpx.AsyncClient, collar: str, station: str = "hitchin") -> str:
    response = await client.post("/officers", json={"collar_number": collar, "station_id": station})
    assert response.status_code == 201, response.text
    officer_id: str = response.json()["officer_id"]
    return officer_id


def appointment_duty(
    duty_id: str, station: str = "hitchin", span: tuple[str, str] = EVENING
) -> dict[str, Any]:
    starts_at, ends_at = span
    return {"duty_id": duty_id, "duty": "appointments", "station_id": station, "starts_at": starts_at,
            "ends_at": ends_at}  # fmt: skip


async def records_of(settings: Settings, officer_id: str, event_type: str, at_least: int = 1) -> list[Any]:
    """The records of one officer and one event type on the run's roster.events topic."""
    records = await read_topic(settings.kafka_bootstrap, settings.topic("roster.events"), at_least=at_least)
    return [r for r in records if r.key == officer_id.encode() and header(r, "ce_type") == event_type]


async def test_an_assigned_duty_is_on_roster_events_keyed_by_officer_with_the_contract_headers(
    roster: ServiceProcess, test_settings: Settings
) -> None:
    async with supervisor(roster) as client:
        officer_id = await register(client, "4127")
        response = await client.post(
            f"/officers/{officer_id}/duties",
            json=appointment_duty("duty-4127-1"),
            headers={"x-correlation-id": "roster-week-36"},
        )
    assert response.status_code == 201, response.text
    duty = response.json()
    assert (duty["duty_id"], duty["station_id"], duty["district_id"]) == (
        "duty-4127-1", "hitchin", "north-hertfordshire"
    )  # fmt: skip
    assert (duty["day"], duty["when"]) == ("Monday 6 September 2027", "5pm to 8pm")

    [record] = await records_of(test_settings, officer_id, "DutyAssigned")
    assert header(record, "ce_specversion") == "1.0"
    assert header(record, "ce_source") == "urn:herts-police:station-appointments:roster"
    assert header(record, "ce_subject") == f"officer:{officer_id}"
    assert header(record, "ce_id") and header(record, "ce_time")
    assert header(record, "correlation_id") == "roster-week-36"
    assert header(record, "schema_version") == "1"
    assert header(record, "actor") == "supervisor:sgt-2291"
    assert b'"duty_id":"duty-4127-1"' in record.value.replace(b" ", b"")
    assert await records_of(test_settings, officer_id, "OfficerRegistered")


async def test_a_clashing_duty_is_refused_with_409_naming_the_duty_held(roster: ServiceProcess) -> None:
    async with supervisor(roster) as client:
        officer_id = await register(client, "4128")
        first = await client.post(f"/officers/{officer_id}/duties", json=appointment_duty("duty-4128-1"))
        clash = await client.post(
            f"/officers/{officer_id}/duties",
            json={"duty": "emergency-response", "starts_at": "2027-09-06T18:00:00Z",
                  "ends_at": "2027-09-07T02:00:00Z"},
        )  # fmt: skip
    assert first.status_code == 201, first.text
    assert clash.status_code == 409, clash.text
    body = clash.json()
    assert body["clashing_duty"]["duty_id"] == "duty-4128-1"
    assert "duty-4128-1" in body["detail"] and "appointment duty at hitchin" in body["detail"]


async def test_a_withdrawal_is_on_roster_events_once_however_often_it_is_sent(
    roster: ServiceProcess, test_settings: Settings
) -> None:
    withdrawal = {
        "withdrawal_id": f"w-{uuid.uuid4().hex[:8]}",
        "starts_at": "2027-09-06T17:00:00Z",
        "ends_at": "2027-09-06T18:00:00Z",
        "reason": "court",
    }
    async with supervisor(roster) as client:
        officer_id = await register(client, "4129")
        await client.post(f"/officers/{officer_id}/duties", json=appointment_duty("duty-4129-1"))
        first = await client.post(f"/officers/{officer_id}/withdrawals", json=withdrawal)
        again = await client.post(f"/officers/{officer_id}/withdrawals", json=withdrawal)
        cover = await client.get("/duties", params={"place": "station", "place_id": "hitchin", "day": DAY})
    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert first.json()["duty_ids"] == ["duty-4129-1"]

    records = await records_of(test_settings, officer_id, "OfficerWithdrawn")
    assert len(records) == 1
    assert withdrawal["withdrawal_id"].encode() in records[0].value

    assert cover.status_code == 200, cover.text
    [mine] = [c for c in cover.json()["on_duty"] if c["officer_id"] == officer_id]
    assert [s["when"] for s in mine["available"]] == ["5pm to 6pm", "7pm to 8pm"]


async def test_a_repeated_duty_or_registration_appends_nothing(
    roster: ServiceProcess, test_settings: Settings
) -> None:
    async with supervisor(roster) as client:
        officer_id = await register(client, "4130")
        again = await client.post("/officers", json={"collar_number": "4130", "station_id": "hitchin"})
        first = await client.post(f"/officers/{officer_id}/duties", json=appointment_duty("duty-4130-1"))
        repeat = await client.post(f"/officers/{officer_id}/duties", json=appointment_duty("duty-4130-1"))
    assert again.status_code == 200 and again.json()["officer_id"] == officer_id
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json() == first.json()
    assert len(await records_of(test_settings, officer_id, "DutyAssigned")) == 1
    assert len(await records_of(test_settings, officer_id, "OfficerRegistered")) == 1


async def test_a_call_taker_reads_the_roster_but_cannot_assign_duties(roster: ServiceProcess) -> None:
    async with supervisor(roster) as client:
        officer_id = await register(client, "4131")
    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.CALL_TAKER)) as client:
        assigning = await client.post(f"/officers/{officer_id}/duties", json=appointment_duty("duty-4131-1"))
        reading = await client.get(f"/officers/{officer_id}")
    assert assigning.status_code == 403, assigning.text
    assert reading.status_code == 200 and reading.json()["collar_number"] == "4131"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/officers", {"collar_number": "4132", "station_id": "gotham"}, 422, "station_id"),
        ("/officers", {"collar_number": "not a number", "station_id": "hitchin"}, 422, "collar_number"),
        ("/officers/nobody/duties", appointment_duty("d-1"), 404, "officer_id"),
        ("/officers/nobody/withdrawals", {"starts_at": EVENING[0], "ends_at": EVENING[1], "reason": "court"},
         404, "officer_id"),
        ("/officers", {"collar_number": "4127", "station_id": "hitchin", "officer_id": "someone-else"}, 409,
         "collar_number"),
    ],
)  # fmt: skip
async def test_bad_requests_get_the_status_the_field_and_the_reason(
    roster: ServiceProcess, path: str, body: dict[str, Any], status: int, field: str
) -> None:
    async with supervisor(roster) as client:
        await client.post("/officers", json={"collar_number": "4127", "station_id": "hitchin"})
        response = await client.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["reason"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/duties", {"place": "station", "place_id": "royston", "day": DAY}, 422),
        ("/duties", {"place": "station", "place_id": "hitchin", "day": "6 September"}, 422),
        ("/duties", {"place": "bicycle", "place_id": "hitchin", "day": DAY}, 422),
        ("/duties", {"place": "diary-car", "place_id": "gotham", "day": DAY}, 404),  # as on every service
        ("/officers/nobody", {}, 404),
        ("/officers/not:an:id", {}, 422),
    ],
)
async def test_bad_reads_are_refused_never_a_500(
    roster: ServiceProcess, path: str, params: dict[str, str], status: int
) -> None:
    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.OFFICER)) as client:
        response = await client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["reason"]


async def test_ending_a_duty_early_is_on_roster_events_once_and_shortens_the_cover(
    roster: ServiceProcess, test_settings: Settings
) -> None:
    ending = {"ends_at": "2027-09-06T17:30:00Z", "reason": "major-incident"}
    async with supervisor(roster) as client:
        officer_id = await register(client, "4133")
        await client.post(f"/officers/{officer_id}/duties", json=appointment_duty("duty-4133-1"))
        first = await client.post(f"/officers/{officer_id}/duties/duty-4133-1/end", json=ending)
        again = await client.post(f"/officers/{officer_id}/duties/duty-4133-1/end", json=ending)
        unknown = await client.post(f"/officers/{officer_id}/duties/duty-9/end", json=ending)
        cover = await client.get("/duties", params={"place": "station", "place_id": "hitchin", "day": DAY})
    assert (first.status_code, again.status_code, unknown.status_code) == (200, 200, 404)
    assert first.json() == again.json()
    assert (first.json()["ended"], first.json()["when"]) == (True, "5pm to 6:30pm")
    assert len(await records_of(test_settings, officer_id, "DutyEnded")) == 1
    [mine] = [c for c in cover.json()["on_duty"] if c["officer_id"] == officer_id]
    assert [s["when"] for s in mine["available"]] == ["5pm to 6:30pm"]


async def test_the_seeded_roster_covers_stations_and_diary_cars_and_a_rerun_adds_nothing(
    roster: ServiceProcess,
) -> None:
    # November 2027: no other test's station or diary car on those days.
    seeding = (roster.url, token(Role.SUPERVISOR, "seed"), date(2027, 11, 1), 2)
    added = await asyncio.to_thread(seed_roster, *seeding)
    again = await asyncio.to_thread(seed_roster, *seeding)
    assert added > 100 and again == 0, (added, again)

    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.CALL_TAKER)) as client:
        station = await client.get(
            "/duties", params={"place": "station", "place_id": "stevenage", "day": "2027-11-01"}
        )
        car = await client.get(
            "/duties", params={"place": "diary-car", "place_id": "dacorum", "day": "2027-11-02"}
        )
    assert [c["duty"]["when"] for c in station.json()["on_duty"]] == ["5pm to 8pm", "5pm to 8pm"]
    assert [c["duty"]["when"] for c in car.json()["on_duty"]] == ["8am to 2pm", "2pm to 8pm"]
    # Each seeded officer has an invented name, the same on every run.
    on_duty = station.json()["on_duty"] + car.json()["on_duty"]
    assert [c["name"] for c in on_duty] == [invented_name(c["collar_number"]) for c in on_duty]

    # A name a supervisor gives a seeded officer stays when the seed runs again.
    seeded = on_duty[0]
    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.SUPERVISOR)) as client:
        home = (await client.get(f"/officers/{seeded['officer_id']}")).json()["station_id"]
        corrected = await client.post(
            "/officers",
            json={"collar_number": seeded["collar_number"], "station_id": home, "name": "Saoirse Adeyemi"},
        )
        assert corrected.status_code == 201, corrected.text
        third = await asyncio.to_thread(seed_roster, *seeding)
        kept = await client.get(f"/officers/{seeded['officer_id']}")
    assert third == 0 and kept.json()["name"] == "Saoirse Adeyemi"
