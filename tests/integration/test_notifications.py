"""Notifications on the real servers: a booking gives a text on sms-outbound, and nothing personal leaks."""

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

from schemas.gateway import SmsReceipt
from schemas.topics import NOTIFICATIONS_EVENTS, SMS_OUTBOUND
from services.common import kafka
from services.common.auth import Role
from services.common.config import Settings
from services.common.staging import outgoing
from services.common.unit_of_work import Metadata
from tests.integration.test_first_flow import booking_form
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth, service

pytestmark = pytest.mark.integration
STATION = "stevenage"
PHONE = "+447700900456"
# Texts at any hour in tests: quiet hours are the deciders' to show (tests/unit/notifications).
ANY_HOUR = {"APPOINTMENTS_NOTIFY_QUIET_STARTS": "00:00", "APPOINTMENTS_NOTIFY_QUIET_ENDS": "00:00"}


@pytest.fixture(scope="module")
async def notifications(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The notifications service, beside the run's booking and projections."""
    process = await service("notifications", tmp_path_factory.mktemp("notifications"), **ANY_HOUR).start()
    yield process
    process.stop()


async def book(booking: ServiceProcess, day: str, start: str, **briefing: Any) -> str:
    """Book a Stevenage appointment for the caller on PHONE; returns its id."""
    form = booking_form(day, start, phone="07700 900456")
    form["briefing"] |= briefing
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        response = await client.post(f"/stations/{STATION}/appointments", json=form)
    assert response.status_code == 201, response.text
    appointment_id: str = response.json()["appointment_id"]
    return appointment_id


async def texts_for(settings: Settings, appointment_id: str, at_least: int = 1) -> list[Any]:
    """The records on sms-outbound for one appointment."""
    for _ in range(6):
        records = await read_topic(
            settings.kafka_bootstrap, settings.topic(SMS_OUTBOUND), at_least=10_000, wait_seconds=5
        )
        mine = [r for r in records if json.loads(r.value).get("appointment_id") == appointment_id]
        if len(mine) >= at_least:
            return mine
    return mine


async def test_a_booking_queues_a_text_with_the_number_only_where_the_gateway_needs_it(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    appointment_id = await book(booking, "2027-02-10", "17:00")
    (record,) = await texts_for(test_settings, appointment_id)
    value = json.loads(record.value)
    assert value["phone_number"] == PHONE
    assert value["template"] == "appointment-booked"
    assert value["personalisation"]["place"] == "Stevenage Police Station"
    assert value["personalisation"]["time"] == "5pm"
    assert value["personalisation"]["day"] == "Wednesday 10 February 2027"
    assert appointment_id in value["reference"]
    assert header(record, "ce_type") == "SmsToSend"
    # The number is in the value only: not the key, not a header.
    assert PHONE not in record.key.decode() and "900456" not in record.key.decode()
    assert not any("900456" in bytes(v).decode() for _, v in record.headers)
    # SmsQueued on notifications.events: the template and reference, no number, no body.
    events = await read_topic(
        test_settings.kafka_bootstrap, test_settings.topic(NOTIFICATIONS_EVENTS), at_least=1, wait_seconds=10
    )
    queued = [
        json.loads(e.value) for e in events if json.loads(e.value).get("appointment_id") == appointment_id
    ]
    assert [q["template"] for q in queued] == ["appointment-booked"]
    assert queued[0]["message_id"] == value["message_id"]
    assert all("900456" not in e.value.decode() and "Bike stolen" not in e.value.decode() for e in events)


async def test_not_safe_to_text_sends_nothing(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    unsafe = await book(booking, "2027-02-10", "18:00", safe_to_text=False)
    safe = await book(booking, "2027-02-10", "19:00")
    assert len(await texts_for(test_settings, safe)) == 1  # the later one arrived: the earlier was decided
    assert await texts_for(test_settings, unsafe, at_least=0) == []


def test_the_service_log_names_no_number_and_no_case_detail(notifications: ServiceProcess) -> None:
    text = Path(notifications.log_path).read_text()
    assert "900456" not in text and "Bike stolen" not in text and "Jane Citizen" not in text


async def publish_receipt(settings: Settings, receipt: SmsReceipt) -> None:
    """Put a delivery receipt on sms-receipts, as the gateway's callback does."""
    broker = kafka.make_broker(settings.kafka_bootstrap, "test-gateway")
    await broker.start()
    try:
        meta = Metadata(correlation_id=str(uuid.uuid4()), actor="gateway:test", now=datetime.now(UTC))
        out = outgoing(
            receipt, f"receipt:{receipt.id}", "urn:herts-police:station-appointments:gateway", meta
        )
        send = kafka.publisher(broker, settings.topic_prefix)
        await send(out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers())
    finally:
        await broker.stop()


async def events_of(settings: Settings, message_id: str, at_least: int) -> list[str]:
    """The event types on notifications.events for one text, once at least ``at_least`` are there."""
    found: list[str] = []
    for _ in range(10):
        records = await read_topic(
            settings.kafka_bootstrap, settings.topic(NOTIFICATIONS_EVENTS), at_least=10_000, wait_seconds=2
        )
        found = [
            header(r, "ce_type") or "" for r in records if json.loads(r.value).get("message_id") == message_id
        ]
        if len(found) >= at_least:
            return found
    return found


def receipt_of(text: dict[str, Any], receipt_id: str, status: str) -> SmsReceipt:
    now = datetime.now(UTC)
    return SmsReceipt.model_validate(
        {"id": receipt_id, "reference": text["reference"], "status": status, "created_at": now,
         "completed_at": now, "sent_at": now, "template_id": text["template_id"], "template_version": 1}
    )  # fmt: skip


async def test_a_receipt_moves_its_text_once_and_a_permanent_failure_flags_the_appointment(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    delivered = json.loads(
        (await texts_for(test_settings, await book(booking, "2027-02-11", "17:00")))[0].value
    )
    await publish_receipt(test_settings, receipt_of(delivered, "receipt-1", "delivered"))
    await publish_receipt(test_settings, receipt_of(delivered, "receipt-1", "delivered"))  # Notify repeats
    assert await events_of(test_settings, delivered["message_id"], 2) == ["SmsQueued", "SmsDelivered"]
    await asyncio.sleep(1.0)
    assert await events_of(test_settings, delivered["message_id"], 3) == ["SmsQueued", "SmsDelivered"]

    appointment_id = await book(booking, "2027-02-11", "18:00")
    failed = json.loads((await texts_for(test_settings, appointment_id))[0].value)
    await publish_receipt(test_settings, receipt_of(failed, "receipt-2", "permanent-failure"))
    assert await events_of(test_settings, failed["message_id"], 3) == [
        "SmsQueued", "SmsFailed", "CallBackRequested",
    ]  # fmt: skip
    conn = await asyncpg.connect(test_settings.database_url("notifications"))
    try:
        flagged = await conn.fetchval(
            "select call_back from appointments where appointment_id = $1", appointment_id
        )
    finally:
        await conn.close()
    assert flagged is True
