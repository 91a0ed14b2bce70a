"""The first real flow: a call taker books a station slot; Kafka carries it; the diary shows it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration


def booking_form(
    day: str, start: str, grade: str = "scheduled", phone: str = "07700 900123"
) -> dict[str, Any]:
    return {
        "day": day,
        "start": start,
        "incident_grade": grade,
        "caller": {"name": "Jane Citizen", "phone": phone},
        "briefing": {
            "case_reference": "41/12345/26",
            "summary": "Bike stolen from the front garden overnight",
            "thrive_risk": "low",
            "safe_to_text": True,
            "safe_to_call": True,
        },
    }


async def diary_of(projections: ServiceProcess, station: str, day: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        response = await client.get(f"/diaries/stations/{station}/{day}")
        assert response.status_code == 200, response.text
        lines: list[dict[str, Any]] = response.json()["appointments"]
        return lines


async def test_a_booked_slot_is_on_kafka_with_the_contract_headers_and_in_the_station_diary(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-101")) as client:
        response = await client.post(
            "/stations/stevenage/appointments",
            json=booking_form("2027-02-03", "17:00"),
            headers={"x-correlation-id": "call-4471"},
        )
    assert response.status_code == 201, response.text
    booked = response.json()
    assert booked["when"] == "5pm to 6pm" and booked["day"] == "Wednesday 3 February 2027"
    appointment_id = booked["appointment_id"]

    records = await read_topic(
        test_settings.kafka_bootstrap, test_settings.topic("booking.events"), at_least=1
    )
    mine = [r for r in records if r.key == appointment_id.encode()]
    assert len(mine) == 1
    record = mine[0]
    assert header(record, "ce_type") == "SlotBooked"
    assert header(record, "ce_specversion") == "1.0"
    assert header(record, "ce_source") == "urn:herts-police:station-appointments:booking"
    assert header(record, "ce_subject") == "station:stevenage:2027-02-03"
    assert header(record, "ce_id") and header(record, "ce_time")
    assert header(record, "correlation_id") == "call-4471"
    assert header(record, "schema_version") == "1"
    assert header(record, "actor") == "call-taker:ct-101"
    assert b"Jane" not in record.value and b"900123" not in record.value  # sealed, not clear

    # Other tests book other slots of this day: look for this appointment's line only.
    for _ in range(100):
        lines = [
            x
            for x in await diary_of(projections, "stevenage", "2027-02-03")
            if x["appointment_id"] == appointment_id
        ]
        if lines:
            break
        await asyncio.sleep(0.1)
    assert [(line["appointment_id"], line["status"], line["when"]) for line in lines] == [
        (appointment_id, "booked", "5pm to 6pm")
    ]


async def test_twenty_call_takers_racing_for_the_last_slot_exactly_one_wins(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, _ = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER), timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post("/stations/watford/appointments", json=booking_form("2027-02-04", "18:00"))
                for _ in range(20)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses if r.status_code not in (201, 409)]
    for lost in (r for r in responses if r.status_code == 409):
        alternatives = lost.json()["alternatives"]
        assert len(alternatives) == 3
        assert all(a["starts_at"] != "2027-02-04T18:00:00Z" for a in alternatives)


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        (booking_form("2027-02-05", "19:00", grade="urgent"), "incident_grade", "emergency response"),
        (booking_form("2027-02-05", "19:00", grade="priority"), "incident_grade", "emergency response"),
        (booking_form("2027-02-05", "19:00", phone="12345"), "caller.phone", "phone number"),
        (booking_form("2020-02-05", "17:00"), "start", "already begun"),
        (booking_form("2027-02-05", "12:00"), "start", "not one of them"),
        (booking_form("2027-03-28", "01:30"), "start", "clock"),
    ],
)
async def test_bad_requests_are_refused_with_the_field_and_the_reason(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    form: dict[str, Any],
    field: str,
    words: str,
) -> None:
    booking, _ = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        response = await client.post("/stations/st-albans/appointments", json=form)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors[0]["field"] == field
    assert words in errors[0]["reason"]


async def test_a_role_outside_booking_is_forbidden_and_no_token_is_unauthorised(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, _ = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url) as client:
        form = booking_form("2027-02-05", "19:00")
        forbidden = await client.post("/stations/hitchin/appointments", json=form, headers=auth(Role.GATEWAY))
        anonymous = await client.post("/stations/hitchin/appointments", json=form)
    assert forbidden.status_code == 403
    assert anonymous.status_code == 401
