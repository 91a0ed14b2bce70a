"""A retried HTTP booking books once: the request id is honoured over HTTP as it is on Kafka."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from tests.integration.test_first_flow import booking_form
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration


async def test_the_same_request_id_answers_with_the_same_appointment_and_books_once(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, _ = booking_and_projections
    form = {**booking_form("2027-02-10", "17:00"), "request_id": f"call-{uuid.uuid4()}"}
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER), timeout=60) as client:
        first = await client.post("/stations/stevenage/appointments", json=form)
        again = await client.post("/stations/stevenage/appointments", json=form)
    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    # One booking on Kafka, not two.
    records = await read_topic(
        test_settings.kafka_bootstrap, test_settings.topic("booking.events"), at_least=1
    )
    mine = [r for r in records if r.key == first.json()["appointment_id"].encode()]
    assert [header(r, "ce_type") for r in mine] == ["SlotBooked"]


async def test_the_same_request_id_asking_for_another_time_is_refused_with_a_clear_409(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, _ = booking_and_projections
    request_id = f"call-{uuid.uuid4()}"
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER), timeout=60) as client:
        first = await client.post(
            "/stations/stevenage/appointments",
            json={**booking_form("2027-02-10", "18:00"), "request_id": request_id},
        )
        other = await client.post(
            "/stations/stevenage/appointments",
            json={**booking_form("2027-02-10", "19:00"), "request_id": request_id},
        )
    assert first.status_code == 201, first.text
    assert other.status_code == 409, other.text
    body = other.json()
    assert body["code"] == "request-reused"
    assert body["errors"] == [
        {"field": "request_id", "reason": f"request id {request_id} was already used for a different booking"}
    ]


async def test_racing_retries_of_one_request_book_one_appointment(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, _ = booking_and_projections
    form = {**booking_form("2027-02-11", "17:00"), "request_id": f"call-{uuid.uuid4()}"}
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER), timeout=60) as client:
        answers = await asyncio.gather(
            *(client.post("/stations/stevenage/appointments", json=form) for _ in range(6))
        )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["appointment_id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") != "true" for a in answers) == 1
