"""Control-room requests on Kafka are decided like HTTP bookings; duplicates book nothing twice."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.envelope import Envelope
from schemas.topics import CONTROLROOM_REQUESTS, DEADLETTER
from services.booking.app.handlers import appointment_id_for
from services.common import kafka
from services.common.config import Settings
from tests.integration.test_first_flow import booking_form
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration


async def submit(settings: Settings, request: dict[str, Any], raw: bytes | None = None) -> None:
    """Publish a request as a control-room system does: CloudEvents headers, key = request id."""
    envelope = Envelope(
        event_id=uuid.uuid4(), event_type="AppointmentRequestSubmitted", schema_version=1,
        source="urn:herts-police:control-room:storm", subject=str(request.get("request_id", "?")),
        time=datetime.now(UTC), correlation_id=f"incident-{uuid.uuid4().hex[:6]}", actor="control-room:storm",
        data=request,
    )  # fmt: skip
    broker = kafka.make_broker(settings.kafka_bootstrap, "test-control-room")
    await broker.start()
    try:
        send = kafka.publisher(broker, settings.topic_prefix)
        key = str(request.get("request_id", "?")).encode()
        await send(
            CONTROLROOM_REQUESTS,
            key,
            raw if raw is not None else envelope.kafka_value(),
            envelope.kafka_headers(),
        )
    finally:
        await broker.stop()


async def answers_for(
    settings: Settings, appointment_id: str, count: int
) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for _ in range(60):
        records = await read_topic(settings.kafka_bootstrap, settings.topic("booking.events"), at_least=1)
        found = [
            (header(r, "ce_type") or "", json.loads(r.value))
            for r in records
            if r.key == appointment_id.encode()
        ]
        if len(found) >= count:
            break
        await asyncio.sleep(0.5)
    return found


async def test_a_request_is_booked_once_however_often_it_arrives(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    request_id = f"STORM-{uuid.uuid4().hex[:8]}"
    request = {
        "place": "station",
        "place_id": "hitchin",
        "request_id": request_id,
        **booking_form("2027-02-11", "17:00"),
    }
    await submit(test_settings, request)
    await submit(test_settings, request)  # the control room retried
    answers = await answers_for(test_settings, appointment_id_for(request_id), 1)
    await asyncio.sleep(2)  # give a wrongly double-booked duplicate time to show
    answers = await answers_for(test_settings, appointment_id_for(request_id), 1)
    assert [name for name, _ in answers] == ["SlotBooked"]
    assert answers[0][1]["request_id"] == request_id


async def test_an_urgent_request_is_refused_with_the_reason_for_the_control_room(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    request_id = f"STORM-{uuid.uuid4().hex[:8]}"
    form = booking_form("2027-02-11", "18:00", grade="urgent")
    await submit(test_settings, {"place": "station", "place_id": "hitchin", "request_id": request_id, **form})
    answers = await answers_for(test_settings, appointment_id_for(request_id), 1)
    assert [name for name, _ in answers] == ["RequestRefused"]
    refusal = answers[0][1]
    assert (refusal["code"], refusal["field"], refusal["request_id"]) == (
        "emergency-response", "incident_grade", request_id,
    )  # fmt: skip
    assert "emergency response" in refusal["reason"]


async def test_a_request_for_a_taken_slot_is_refused_with_alternatives(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    first, second = (f"STORM-{uuid.uuid4().hex[:8]}" for _ in range(2))
    form = booking_form("2027-02-12", "19:00")
    await submit(test_settings, {"place": "station", "place_id": "hitchin", "request_id": first, **form})
    assert [n for n, _ in await answers_for(test_settings, appointment_id_for(first), 1)] == ["SlotBooked"]
    await submit(test_settings, {"place": "station", "place_id": "hitchin", "request_id": second, **form})
    answers = await answers_for(test_settings, appointment_id_for(second), 1)
    assert [name for name, _ in answers] == ["RequestRefused"]
    assert answers[0][1]["code"] == "slot-taken" and len(answers[0][1]["alternatives"]) == 3


async def test_an_unreadable_request_goes_to_the_dead_letter_topic(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    request_id = f"BROKEN-{uuid.uuid4().hex[:8]}"
    await submit(test_settings, {"request_id": request_id, "place": "moon"})
    for _ in range(60):
        dead = await read_topic(test_settings.kafka_bootstrap, test_settings.topic(DEADLETTER), at_least=1)
        mine = [r for r in dead if r.key == request_id.encode() and header(r, "dlq_consumer")]
        if mine:
            break
        await asyncio.sleep(0.5)
    assert mine, "the broken request never reached the dead-letter topic"
    assert "control-room request" in (header(mine[0], "dlq_reason") or "")
    assert header(mine[0], "dlq_source_topic") == test_settings.topic(CONTROLROOM_REQUESTS)
