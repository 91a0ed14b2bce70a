"""One real upcast end to end: a version-1 event already on a topic, read by the live consumers.

An older booking published ``AppointmentRescheduled`` version 1, whose reason was free text.
Such a record on ``booking.events`` is read by the projections through its upcaster (the diary
shows the appointment at its new time) and kept in the history as it was published (version 1:
history is never rewritten); the code reads it as version 2, a reason code.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from schemas.base import parse_event
from schemas.booking import AppointmentRescheduled, AppointmentRescheduledV1
from services.common import kafka
from services.common.auth import Role
from services.common.config import Settings
from services.common.staging import outgoing
from services.common.unit_of_work import Metadata
from tests.integration.test_first_flow import booking_form, diary_of
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
STATION = "watford"
DAY = "2027-05-25"


async def publish_as_an_older_booking(settings: Settings, event: AppointmentRescheduledV1) -> None:
    broker = kafka.make_broker(settings.kafka_bootstrap, "test-older-booking")
    await broker.start()
    try:
        send = kafka.publisher(broker, settings.topic_prefix)
        meta = Metadata(correlation_id=str(uuid.uuid4()), actor="call-taker:ct-old", now=datetime.now(UTC))
        out = outgoing(event, event.diary, "urn:herts-police:station-appointments:booking", meta)
        assert out.envelope.schema_version == 1
        await send(out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers())
    finally:
        await broker.stop()


async def line_of(projections: ServiceProcess, appointment_id: str) -> dict[str, Any] | None:
    return next(
        (x for x in await diary_of(projections, STATION, DAY) if x["appointment_id"] == appointment_id), None
    )


async def test_a_version_1_reschedule_on_the_topic_is_read_through_its_upcaster_by_the_projections(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        response = await client.post(f"/stations/{STATION}/appointments", json=booking_form(DAY, "17:00"))
    assert response.status_code == 201, response.text
    booked = response.json()
    appointment_id = booked["appointment_id"]
    for _ in range(100):
        if (line := await line_of(projections, appointment_id)) is not None:
            break
        await asyncio.sleep(0.1)
    assert line is not None, "the booking never reached the diary"
    starts_at, ends_at = datetime.fromisoformat(line["starts_at"]), datetime.fromisoformat(line["ends_at"])
    later = starts_at.replace(hour=starts_at.hour + 2), ends_at.replace(hour=ends_at.hour + 2)

    diary = f"station:{STATION}:{DAY}"
    old = AppointmentRescheduledV1(
        appointment_id=appointment_id, diary=diary, from_diary=diary, from_starts_at=starts_at,
        from_ends_at=ends_at, starts_at=later[0], ends_at=later[1], room_id=line.get("room_id"),
        officer_id=line.get("officer_id"), initiated_by="police", reason="officer withdrawn: sickness",
        caller_to_be_told=True, rescheduled_at=datetime.now(UTC),
    )  # fmt: skip
    await publish_as_an_older_booking(test_settings, old)

    for _ in range(100):
        moved = await line_of(projections, appointment_id)
        if moved is not None and datetime.fromisoformat(moved["starts_at"]) == later[0]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the version-1 reschedule never moved the diary line")

    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR)) as client:
        history = (await client.get(f"/appointments/{appointment_id}/history")).json()
    kept = [h for h in history if h["event_type"] == "AppointmentRescheduled"]
    assert [h["schema_version"] for h in kept] == [1]  # kept as published, never rewritten
    read = parse_event("AppointmentRescheduled", 1, kept[0]["data"])
    assert isinstance(read, AppointmentRescheduled) and read.reason == "officer-withdrawn"
