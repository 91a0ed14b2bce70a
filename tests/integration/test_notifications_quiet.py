"""Quiet hours on the real servers: nothing goes in them, and a text waiting for the morning is withdrawn
when the appointment is cancelled meanwhile."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from schemas.topics import NOTIFICATIONS_EVENTS
from services.common.auth import Role
from services.common.config import Settings
from services.common.london import local
from tests.integration.test_notifications import book, texts_for
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth, service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def quiet_now(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """Notifications whose quiet hours are the next two hours, whatever the time of the run."""
    now = local(datetime.now(UTC))
    starts, ends = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    process = service(
        "notifications", tmp_path_factory.mktemp("quiet"),
        APPOINTMENTS_NOTIFY_QUIET_STARTS=starts, APPOINTMENTS_NOTIFY_QUIET_ENDS=ends,
    )  # fmt: skip
    await process.start()
    yield process
    process.stop()


async def events_about(
    settings: Settings, appointment_id: str, at_least: int
) -> list[tuple[str, dict[str, object]]]:
    found: list[tuple[str, dict[str, object]]] = []
    for _ in range(15):
        records = await read_topic(
            settings.kafka_bootstrap, settings.topic(NOTIFICATIONS_EVENTS), at_least=10_000, wait_seconds=2
        )
        found = [
            (header(r, "ce_type") or "", json.loads(r.value))
            for r in records if json.loads(r.value).get("appointment_id") == appointment_id
        ]  # fmt: skip
        if len(found) >= at_least:
            break
    return found


async def test_in_quiet_hours_a_text_waits_and_a_cancellation_withdraws_it_before_it_goes(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    quiet_now: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    appointment_id = await book(booking, "2027-02-24", "17:00", phone="07700 900701")
    (queued,) = [
        data for kind, data in await events_about(test_settings, appointment_id, 1) if kind == "SmsQueued"
    ]
    send_at = datetime.fromisoformat(str(queued["send_at"]))
    assert send_at > datetime.now(UTC) + timedelta(minutes=55)  # the end of the quiet hours
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        cancelled = await client.post(
            f"/appointments/{appointment_id}/cancel",
            json={"initiated_by": "public", "reason": "no-longer-needed"},
        )
    assert cancelled.status_code == 200, cancelled.text
    events = await events_about(test_settings, appointment_id, 3)
    # Their order across partitions is not Kafka's to keep: compared as a set.
    assert sorted((kind, str(data.get("template") or data.get("reason"))) for kind, data in events) == [
        ("SmsQueued", "appointment-booked"),
        ("SmsQueued", "appointment-cancelled"),
        ("SmsWithdrawn", "appointment-cancelled"),
    ]
    withdrawn = next(data for kind, data in events if kind == "SmsWithdrawn")
    assert withdrawn["message_id"] == queued["message_id"]
    await asyncio.sleep(2)
    assert await texts_for(test_settings, appointment_id, at_least=0) == []  # nothing went in quiet hours
