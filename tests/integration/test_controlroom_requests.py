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
from services.common.deadletters import SEALED_HEADER, DeadLetterSeal
from tests.integration.test_first_flow import booking_form
from tests.support.history import channels
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration


async def submit(
    settings: Settings,
    request: dict[str, Any],
    raw: bytes | None = None,
    *,
    version: int = 1,
    key: str | None = None,
) -> None:
    """Publish a request as a control-room system does: CloudEvents headers, key = request id."""
    envelope = Envelope(
        event_id=uuid.uuid4(), event_type="AppointmentRequestSubmitted", schema_version=version,
        source="urn:herts-police:control-room:storm", subject=str(request.get("request_id", "?")),
        time=datetime.now(UTC), correlation_id=f"incident-{uuid.uuid4().hex[:6]}", actor="control-room:storm",
        data=request,
    )  # fmt: skip
    broker = kafka.make_broker(settings.kafka_bootstrap, "test-control-room")
    await broker.start()
    try:
        send = kafka.publisher(broker, settings.topic_prefix)
        await send(
            CONTROLROOM_REQUESTS,
            (key or str(request.get("request_id", "?"))).encode(),
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
    # Its history says it came from the control room, not a person on the API.
    _, projections = booking_and_projections
    through = await channels(projections, appointment_id_for(request_id), "SlotBooked")
    assert through == {"SlotBooked": "control-room"}


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


async def test_a_request_with_a_readable_id_is_always_answered_with_the_field_and_the_reason(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    moon, long, old = (f"ODD-{uuid.uuid4().hex[:8]}" for _ in range(3))
    form = booking_form("2027-02-15", "19:00", phone="07700 900456")
    await submit(test_settings, {**form, "request_id": moon, "place": "moon", "place_id": "hitchin"})
    await submit(
        test_settings,
        {**form, "request_id": long, "place": "station", "place_id": "hitchin",
         "caller": {"name": "x" * 500, "phone": "07700 900456"}},
    )  # fmt: skip
    at_hitchin = {**form, "place": "station", "place_id": "hitchin"}
    await submit(test_settings, {**at_hitchin, "request_id": old}, version=9)
    answers = {rid: await answers_for(test_settings, appointment_id_for(rid), 1) for rid in (moon, long, old)}
    assert {rid: [n for n, _ in found] for rid, found in answers.items()} == {
        moon: ["RequestRefused"],
        long: ["RequestRefused"],
        old: ["RequestRefused"],
    }
    refused = {rid: found[0][1] for rid, found in answers.items()}
    assert (refused[moon]["field"], refused[moon]["code"]) == ("place", "invalid")
    assert refused[long]["field"] == "caller.name" and "200" in refused[long]["reason"]
    assert refused[old]["field"] == "schema_version"
    assert all("900456" not in json.dumps(r) and "xxxx" not in json.dumps(r) for r in refused.values())


async def test_a_record_with_no_readable_request_id_goes_to_the_dead_letter_topic_without_its_values(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    key = f"NOID-{uuid.uuid4().hex[:8]}"
    await submit(test_settings, {"place": "moon", "caller": {"phone": "07700 900789"}}, key=key)
    for _ in range(60):
        dead = await read_topic(test_settings.kafka_bootstrap, test_settings.topic(DEADLETTER), at_least=1)
        mine = [r for r in dead if r.key == key.encode() and header(r, "dlq_consumer")]
        if mine:
            break
        await asyncio.sleep(0.5)
    assert mine, "the record with no request id never reached the dead-letter topic"
    reason = header(mine[0], "dlq_reason") or ""
    assert "control-room request" in reason and "request_id" in reason
    assert "900789" not in reason
    assert header(mine[0], "dlq_source_topic") == test_settings.topic(CONTROLROOM_REQUESTS)
    # The copy put aside holds the caller's phone only sealed, and opens with the deployment's key.
    assert b"900789" not in mine[0].value
    assert (header(mine[0], SEALED_HEADER) or "").startswith("aes-256-gcm:")
    seal = DeadLetterSeal(test_settings.deadletter_secret())
    opened = json.loads(seal.open(mine[0].value, test_settings.topic(CONTROLROOM_REQUESTS)))
    assert opened["caller"]["phone"] == "07700 900789"
