"""Notifications on the real servers: a booking gives a text on sms-outbound, and nothing personal leaks."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.base import DomainEvent
from schemas.booking import AppointmentAttended
from schemas.gateway import SmsReceipt
from schemas.topics import NOTIFICATIONS_EVENTS, SMS_OUTBOUND
from services.common import kafka
from services.common.auth import Role
from services.common.config import Settings
from services.common.staging import outgoing
from services.common.unit_of_work import Metadata
from tests.integration.test_first_flow import booking_form, diary_of
from tests.support import roster
from tests.support.history import channels
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth, service, wait_for_capacity

pytestmark = pytest.mark.integration
STATION = "stevenage"
PHONE = "+447700900456"
# Texts at any hour in tests: quiet hours are the deciders' to show (tests/unit/notifications).
ANY_HOUR = {"APPOINTMENTS_NOTIFY_QUIET_STARTS": "00:00", "APPOINTMENTS_NOTIFY_QUIET_ENDS": "00:00"}


SIMULATOR_KEY = "local_simulator-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"


@pytest.fixture(scope="module")
async def gateway_and_notifications(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ServiceProcess, ServiceProcess]]:
    """The notifications service sending through the Notify simulator, which calls it back."""
    logs = tmp_path_factory.mktemp("notifications")
    booking, _ = booking_and_projections
    notifications = service(
        "notifications", logs, **ANY_HOUR,
        APPOINTMENTS_NOTIFY_API_KEY=SIMULATOR_KEY, APPOINTMENTS_NOTIFY_BOOKING_URL=booking.url,
    )  # fmt: skip
    simulator = service(
        "notifications.gateway.simulator", logs,
        APPOINTMENTS_NOTIFY_API_KEY=SIMULATOR_KEY, APPOINTMENTS_SIMULATOR_CALLBACK_URL=notifications.url,
        APPOINTMENTS_SIMULATOR_FAILURE_SHARE="0", APPOINTMENTS_SIMULATOR_DELAY_SECONDS="0.1",
    )  # fmt: skip
    simulator.env["APPOINTMENTS_SIMULATOR_PORT"] = str(simulator.port)
    notifications.env["APPOINTMENTS_NOTIFY_BASE_URL"] = simulator.url
    await simulator.start()
    await notifications.start()
    yield simulator, notifications
    notifications.stop()
    simulator.stop()


@pytest.fixture(scope="module")
def notifications(gateway_and_notifications: tuple[ServiceProcess, ServiceProcess]) -> ServiceProcess:
    """The notifications service of this module."""
    return gateway_and_notifications[1]


async def book(
    booking: ServiceProcess, day: str, start: str, phone: str = "07700 900456", **briefing: Any
) -> str:
    """Book a Stevenage appointment for the caller on ``phone``; returns its id."""
    form = booking_form(day, start, phone=phone)
    form["briefing"] |= briefing
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        response = await client.post(f"/stations/{STATION}/appointments", json=form)
    assert response.status_code == 201, response.text
    appointment_id: str = response.json()["appointment_id"]
    return appointment_id


async def texts_for(settings: Settings, appointment_id: str, at_least: int = 1) -> list[Any]:
    """The records on sms-outbound for one appointment."""
    for _ in range(15):
        records = await read_topic(
            settings.kafka_bootstrap, settings.topic(SMS_OUTBOUND), at_least=10_000, wait_seconds=2
        )
        mine = [r for r in records if json.loads(r.value).get("appointment_id") == appointment_id]
        mine.sort(key=lambda r: json.loads(r.value)["queued_at"])  # texts of one appointment span partitions
        if len(mine) >= at_least:
            return mine
    return mine


async def test_a_booking_queues_a_text_with_the_number_only_where_the_gateway_needs_it(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    appointment_id = await book(booking, "2027-03-10", "17:00")
    (record,) = await texts_for(test_settings, appointment_id)
    value = json.loads(record.value)
    assert value["phone_number"] == PHONE
    assert value["template"] == "appointment-booked"
    assert value["personalisation"]["place"] == "Stevenage Police Station"
    assert value["personalisation"]["time"] == "5pm"
    assert value["personalisation"]["day"] == "Wednesday 10 March 2027"
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
    unsafe = await book(booking, "2027-03-10", "18:00", safe_to_text=False)
    safe = await book(booking, "2027-03-10", "19:00")
    assert len(await texts_for(test_settings, safe)) == 1  # the later one arrived: the earlier was decided
    assert await texts_for(test_settings, unsafe, at_least=0) == []


async def events_of(settings: Settings, message_id: str, at_least: int) -> list[str]:
    """The event types on notifications.events for one text, once at least ``at_least`` are there."""
    found: list[str] = []
    for _ in range(15):
        records = await read_topic(
            settings.kafka_bootstrap, settings.topic(NOTIFICATIONS_EVENTS), at_least=10_000, wait_seconds=2
        )
        found = [
            header(r, "ce_type") or "" for r in records if json.loads(r.value).get("message_id") == message_id
        ]
        if len(found) >= at_least:
            return found
    return found


async def test_booked_through_the_simulator_the_text_is_delivered_and_a_repeated_receipt_changes_nothing(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    simulator, notifications = gateway_and_notifications
    appointment_id = await book(booking, "2027-03-11", "17:00")
    text = json.loads((await texts_for(test_settings, appointment_id))[0].value)
    assert await events_of(test_settings, text["message_id"], 2) == ["SmsQueued", "SmsDelivered"]
    async with httpx.AsyncClient(base_url=simulator.url) as client:
        (seen,) = [t for t in (await client.get("/texts")).json() if t["reference"] == text["reference"]]
    assert seen["status"] == "delivered"
    assert seen["body"].startswith(
        "Hertfordshire Police: your appointment at Stevenage Police Station is at 5pm"
    )
    # Notify calls back up to five times: the same receipt again changes nothing.
    now = datetime.now(UTC).isoformat()
    receipt = {
        "id": seen["id"], "reference": text["reference"], "to": "+447700900456", "status": "delivered",
        "created_at": now, "completed_at": now, "sent_at": now, "notification_type": "sms",
        "template_id": text["template_id"], "template_version": 1,
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.GATEWAY, "notify")) as client:
        for _ in range(2):
            assert (await client.post("/gateway/receipts", json=receipt)).status_code == 204
        texts = await client.get(f"/appointments/{appointment_id}/messages", headers=auth(Role.CALL_TAKER))
    await asyncio.sleep(1.0)
    assert await events_of(test_settings, text["message_id"], 3) == ["SmsQueued", "SmsDelivered"]
    assert texts.status_code == 200, texts.text
    assert [(t["template"], t["status"]) for t in texts.json()["texts"]] == [
        ("appointment-booked", "delivered")
    ]
    # The day's count against Notify's allowance is kept in the database, and is the metric.
    # (Read until the two agree: other tests' texts may be going out meanwhile.)
    conn = await asyncpg.connect(test_settings.database_url("notifications"))
    try:
        async with httpx.AsyncClient(base_url=notifications.url) as client:
            for _ in range(20):
                kept = await conn.fetchval(
                    "select sent from texts_sent_per_day where day = $1", datetime.now(UTC).date()
                )
                exposed = (await client.get("/metrics")).text
                if f"notify_texts_sent_today {float(kept or 0)}" in exposed:
                    break
                await asyncio.sleep(0.2)
    finally:
        await conn.close()
    assert kept >= 1 and f"notify_texts_sent_today {float(kept)}" in exposed


async def test_a_permanent_failure_flags_the_appointment_for_a_call_back(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, projections = booking_and_projections
    _, notifications = gateway_and_notifications
    # Notify's smoke-test number that always fails for good.
    appointment_id = await book(booking, "2027-03-11", "18:00", phone="07700 900002")
    text = json.loads((await texts_for(test_settings, appointment_id))[0].value)
    assert await events_of(test_settings, text["message_id"], 3) == [
        "SmsQueued", "SmsFailed", "CallBackRequested",
    ]  # fmt: skip
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.CALL_TAKER)) as client:
        answer = (await client.get(f"/appointments/{appointment_id}/messages")).json()
    assert answer["call_back"] is True
    assert [t["status"] for t in answer["texts"]] == ["failed"]
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        for _ in range(50):
            history = (await client.get(f"/appointments/{appointment_id}/history")).json()
            kinds = [item.get("event_type") for item in history]
            if "CallBackRequested" in kinds:
                break
            await asyncio.sleep(0.2)
    assert "CallBackRequested" in kinds


async def reply(simulator: ServiceProcess, phone: str, message: str) -> None:
    """A person types a reply on the simulated phone."""
    async with httpx.AsyncClient(base_url=simulator.url) as client:
        answer = await client.post("/texts/replies", json={"to_force_from": phone, "message": message})
    assert answer.status_code == 202, answer.text


async def booked_and_replied(
    booking: ServiceProcess,
    simulator: ServiceProcess,
    settings: Settings,
    *,
    officer_id: str,
    week_of: datetime,
    day: str,
    phone: str,
    words: str,
) -> tuple[str, str]:
    """A caller booked at Stevenage on ``day`` (``officer_id`` on duty that week), texted, and
    replying ``words``: the appointment's id and the caller's subject id, once the reply is in."""
    duty = roster.duty(
        officer_id,
        station="stevenage",
        district="stevenage",
        starts_at=week_of,
        ends_at=week_of + timedelta(days=5),
    )
    await roster.publish(settings, [duty])
    await wait_for_capacity(booking, "stevenage", day)
    appointment_id = await book(booking, day, "17:00", phone=phone)
    await texts_for(settings, appointment_id)
    await reply(simulator, phone.replace(" ", ""), words)
    (received,) = await notification_events(settings, "ReplyReceived", appointment_id)
    subject: str = received["body"]["subject_id"]
    return appointment_id, subject


async def notification_events(
    settings: Settings, wanted: str, appointment_id: str, wait: float = 30
) -> list[Any]:
    """The values of one type of event on notifications.events about one appointment, once there is one."""
    found: list[Any] = []
    for _ in range(int(wait / 2)):
        records = await read_topic(
            settings.kafka_bootstrap, settings.topic(NOTIFICATIONS_EVENTS), at_least=10_000, wait_seconds=2
        )
        found = [
            json.loads(r.value) for r in records
            if header(r, "ce_type") == wanted and json.loads(r.value).get("appointment_id") == appointment_id
        ]  # fmt: skip
        if found:
            return found
    return found


async def test_a_reply_cancel_cancels_the_appointment_in_booking_and_in_the_diary(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, projections = booking_and_projections
    simulator, _ = gateway_and_notifications
    appointment_id = await book(booking, "2027-02-15", "17:00", phone="07700 900501")
    await texts_for(test_settings, appointment_id)  # the booked text reached the gateway
    await reply(simulator, "07700900501", "  Cancel. ")
    (received,) = await notification_events(test_settings, "ReplyReceived", appointment_id)
    assert received["intent"] == "cancel" and "Cancel" not in json.dumps(received)
    for _ in range(100):
        lines = [
            line
            for line in await diary_of(projections, STATION, "2027-02-15")
            if line["appointment_id"] == appointment_id
        ]
        if lines and lines[0]["status"] == "cancelled":
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the appointment cancelled by text never showed cancelled in the diary")
    cancelled = await texts_for(test_settings, appointment_id, at_least=2)
    assert [json.loads(r.value)["template"] for r in cancelled] == [
        "appointment-booked",
        "appointment-cancelled",
    ]
    # Booking recorded it as the caller's, cancelled by text, under the reply's correlation.
    records = await read_topic(
        test_settings.kafka_bootstrap, test_settings.topic("booking.events"), at_least=10_000, wait_seconds=2
    )
    (by_text,) = [
        r for r in records
        if header(r, "ce_type") == "AppointmentCancelled"
        and json.loads(r.value)["appointment_id"] == appointment_id
    ]  # fmt: skip
    value = json.loads(by_text.value)
    assert (value["initiated_by"], value["reason"]) == ("public", "cancelled-by-text")
    replies = await read_topic(
        test_settings.kafka_bootstrap,
        test_settings.topic(NOTIFICATIONS_EVENTS),
        at_least=10_000,
        wait_seconds=2,
    )
    (reply_record,) = [
        r for r in replies
        if header(r, "ce_type") == "ReplyReceived" and json.loads(r.value)["appointment_id"] == appointment_id
    ]  # fmt: skip
    assert header(by_text, "correlation_id") == header(reply_record, "correlation_id")
    # Its history tells the channels apart: booked over HTTP, cancelled by the caller's text reply.
    through = await channels(projections, appointment_id, "ReplyReceived", "AppointmentCancelled")
    assert (through["SlotBooked"], through["ReplyReceived"], through["AppointmentCancelled"]) == (
        "http",
        "text-reply",
        "text-reply",
    )
    assert through["SmsQueued"] == "service"


async def test_two_appointments_ahead_the_caller_is_asked_which_and_a_code_settles_it(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    simulator, _ = gateway_and_notifications
    first = await book(booking, "2027-02-16", "17:00", phone="07700 900502")
    second = await book(booking, "2027-02-16", "18:00", phone="07700 900502")
    await texts_for(test_settings, second)
    await reply(simulator, "07700900502", "YES")
    asked = await texts_for(test_settings, first, at_least=2)
    assert [json.loads(r.value)["template"] for r in asked] == ["appointment-booked", "which-appointment"]
    code = json.loads((await texts_for(test_settings, second))[0].value)["personalisation"]["code"]
    await reply(simulator, "07700900502", f"yes {code.lower()}")
    confirmed = await texts_for(test_settings, second, at_least=2)
    assert [json.loads(r.value)["template"] for r in confirmed] == ["appointment-booked", "confirmed"]


async def test_a_score_after_attendance_is_recorded_and_an_unknown_number_hears_nothing(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    simulator, _ = gateway_and_notifications
    appointment_id = await book(booking, "2027-02-17", "17:00", phone="07700 900503")
    await texts_for(test_settings, appointment_id)
    attended = AppointmentAttended(
        appointment_id=appointment_id, diary="station:stevenage:2027-02-17", officer_id=None,
        starts_at=datetime(2027, 2, 17, 17, 0, tzinfo=UTC), outcome="advice-given",
        recorded_at=datetime.now(UTC),
    )  # fmt: skip
    await publish_booking_event(test_settings, attended)
    thanked = await texts_for(test_settings, appointment_id, at_least=2)
    assert [json.loads(r.value)["template"] for r in thanked] == ["appointment-booked", "thank-you"]
    await reply(simulator, "07700900503", "4")
    (score,) = await notification_events(test_settings, "SatisfactionRecorded", appointment_id)
    assert score["score"] == 4
    before = await read_topic(
        test_settings.kafka_bootstrap,
        test_settings.topic(NOTIFICATIONS_EVENTS),
        at_least=10_000,
        wait_seconds=2,
    )
    await reply(simulator, "07700900999", "YES")  # nobody booked on this number
    await asyncio.sleep(3)
    after = await read_topic(
        test_settings.kafka_bootstrap,
        test_settings.topic(NOTIFICATIONS_EVENTS),
        at_least=10_000,
        wait_seconds=2,
    )
    assert len(after) == len(before)


async def publish_booking_event(settings: Settings, event: AppointmentAttended) -> None:
    """Put one of booking's events on booking.events, as booking's relay would."""
    await publish(settings, event, event.diary)


async def publish(settings: Settings, event: DomainEvent, stream: str) -> None:
    """Put an event on its topic with the contract's envelope, as its writer would."""
    broker = kafka.make_broker(settings.kafka_bootstrap, "test-writer")
    await broker.start()
    try:
        meta = Metadata(correlation_id=str(uuid.uuid4()), actor="test", now=datetime.now(UTC))
        out = outgoing(event, stream, "urn:herts-police:station-appointments:test", meta)
        send = kafka.publisher(broker, settings.topic_prefix)
        await send(out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers())
    finally:
        await broker.stop()


CASE_DETAILS = ("Bike stolen", "41/12345/26", "Jane Citizen")


# The force's own number, which the public text (the simulator's destination_number): not personal.
FORCE_NUMBER = "07700900000"


def clear_numbers(text: str) -> list[str]:
    """Any caller's phone number of these tests in clear (E.164, national, or Notify's 44...)."""
    found = re.findall(r"(?:\+?44|0)7700 ?900\d{3}", text)
    return [n for n in found if n != FORCE_NUMBER]


async def test_a_slot_offered_from_the_waitlist_is_taken_by_replying_yes(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    simulator, _ = gateway_and_notifications
    day, station = "2027-07-22", "bishops-stortford"  # a Thursday no other test books there
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        booked = []
        for start in ("17:00", "18:00", "19:00"):
            answer = await client.post(
                f"/stations/{station}/appointments", json=booking_form(day, start, phone="07700 900801")
            )
            assert answer.status_code == 201, answer.text
            booked.append(answer.json()["appointment_id"])
        form = booking_form(day, "17:00", phone="07700 900802")
        del form["day"], form["start"]
        joined = await client.post(
            "/waitlist",
            json={**form, "place": "station", "place_id": station, "from_day": day, "to_day": day},
        )
        assert joined.status_code == 201, joined.text
        waiting = joined.json()["appointment_id"]
        cancelled = await client.post(
            f"/appointments/{booked[0]}/cancel", json={"initiated_by": "public", "reason": "no-longer-needed"}
        )
        assert cancelled.status_code == 200, cancelled.text
    offered = await texts_for(test_settings, waiting)
    assert [json.loads(r.value)["template"] for r in offered] == ["appointment-offered"]
    assert json.loads(offered[0].value)["personalisation"]["place"] == "Bishop's Stortford Police Station"
    await reply(simulator, "07700900802", "Yes!")
    taken = await texts_for(test_settings, waiting, at_least=2)
    assert [json.loads(r.value)["template"] for r in taken] == ["appointment-offered", "appointment-booked"]
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        entry = (await client.get(f"/waitlist/{waiting}")).json()
    assert entry["status"] == "booked", entry


async def test_stop_stops_every_later_text_to_the_number_after_one_saying_so(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    simulator, notifications = gateway_and_notifications
    first = await book(booking, "2027-02-18", "17:00", phone="07700 900504")
    await texts_for(test_settings, first)
    await reply(simulator, "07700900504", "stop.")
    stopped = await texts_for(test_settings, first, at_least=2)
    assert [json.loads(r.value)["template"] for r in stopped] == ["appointment-booked", "stopped"]
    later = await book(booking, "2027-02-18", "18:00", phone="07700 900504")
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.CALL_TAKER)) as client:
        for _ in range(50):
            texts = (await client.get(f"/appointments/{later}/messages")).json().get("texts", [])
            if texts and texts[0]["sent_at"]:
                break
            await asyncio.sleep(0.2)
    assert [(t["template"], t["status"]) for t in texts] == [("appointment-booked", "stopped")]
    assert await texts_for(test_settings, later, at_least=0) == []


async def inbound(notifications: ServiceProcess, notify_id: str, source: str, message: str) -> None:
    """Notify's received-text callback, as Notify sends it (the sender as 447700900123)."""
    body = {
        "id": notify_id, "source_number": source, "destination_number": FORCE_NUMBER, "message": message,
        "date_received": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.GATEWAY, "notify")) as client:
        assert (await client.post("/gateway/inbound", json=body)).status_code == 204


async def test_move_asks_for_a_call_back_once_however_often_notify_repeats_the_text(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    _, notifications = gateway_and_notifications
    appointment_id = await book(booking, "2027-03-08", "17:00", phone="07700 900505")
    await texts_for(test_settings, appointment_id)
    # Notify retries a callback it got no answer to: the same id, three times.
    notify_id = str(uuid.uuid4())
    for _ in range(3):
        await inbound(notifications, notify_id, "447700900505", "Move.")
    promised = await texts_for(test_settings, appointment_id, at_least=2)
    assert [json.loads(r.value)["template"] for r in promised] == ["appointment-booked", "call-back-promised"]
    (flag,) = await notification_events(test_settings, "CallBackRequested", appointment_id)
    assert flag["reason"] == "asked-to-move"
    (received,) = await notification_events(test_settings, "ReplyReceived", appointment_id)
    assert received["intent"] == "move" and "Move" not in json.dumps(received)
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.CALL_TAKER)) as client:
        answer = (await client.get(f"/appointments/{appointment_id}/messages")).json()
    assert answer["call_back"] is True
    assert [(r["intent"], r["words"]) for r in answer["replies"]] == [("move", "Move.")]
    # Still one of each once the repeats have all been read.
    await asyncio.sleep(2)
    assert len(await notification_events(test_settings, "ReplyReceived", appointment_id)) == 1
    assert len(await texts_for(test_settings, appointment_id, at_least=0)) == 2


async def test_notify_refusing_a_text_to_a_landline_records_its_reason_and_flags_a_call_back(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    _, notifications = gateway_and_notifications
    # Booking takes any valid number; Notify (here its simulator) texts mobiles only: a 400.
    appointment_id = await book(booking, "2027-03-04", "17:00", phone="01438 757000")
    text = json.loads((await texts_for(test_settings, appointment_id))[0].value)
    assert await events_of(test_settings, text["message_id"], 3) == [
        "SmsQueued", "SmsFailed", "CallBackRequested",
    ]  # fmt: skip
    (failed,) = await notification_events(test_settings, "CallBackRequested", appointment_id)
    assert failed["reason"] == "text-not-delivered"
    records = await read_topic(
        test_settings.kafka_bootstrap,
        test_settings.topic(NOTIFICATIONS_EVENTS),
        at_least=10_000,
        wait_seconds=2,
    )
    (refused,) = [
        json.loads(r.value) for r in records
        if header(r, "ce_type") == "SmsFailed" and json.loads(r.value)["message_id"] == text["message_id"]
    ]  # fmt: skip
    assert (refused["status"], refused["permanent"]) == ("rejected", True)
    assert refused["reason"] == "phone_number Not a UK mobile number"  # Notify's own words
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.CALL_TAKER)) as client:
        answer = (await client.get(f"/appointments/{appointment_id}/messages")).json()
    assert answer["call_back"] is True and [t["status"] for t in answer["texts"]] == ["rejected"]


async def test_a_booking_event_delivered_again_with_its_event_id_queues_no_second_text(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    appointment_id = await book(booking, "2027-03-08", "18:00", phone="07700 900506")
    await texts_for(test_settings, appointment_id)
    records = await read_topic(
        test_settings.kafka_bootstrap, test_settings.topic("booking.events"), at_least=10_000, wait_seconds=2
    )
    (booked,) = [
        r for r in records
        if header(r, "ce_type") == "SlotBooked" and json.loads(r.value)["appointment_id"] == appointment_id
    ]  # fmt: skip
    # The very record again (a relay's retry, a rebalance): same key, value and headers.
    broker = kafka.make_broker(test_settings.kafka_bootstrap, "test-redeliver")
    await broker.start()
    try:
        send = kafka.publisher(broker, test_settings.topic_prefix)
        await send("booking.events", booked.key, booked.value, list(booked.headers))
    finally:
        await broker.stop()
    await asyncio.sleep(3)
    assert len(await texts_for(test_settings, appointment_id, at_least=0)) == 1
    queued = await notification_events(test_settings, "SmsQueued", appointment_id)
    assert [q["template"] for q in queued] == ["appointment-booked"]


async def test_a_reply_that_is_no_keyword_is_kept_for_a_call_taker_to_read_and_answered_by_nothing(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    simulator, notifications = gateway_and_notifications
    appointment_id = await book(booking, "2027-03-04", "18:00", phone="07700 900507")
    await texts_for(test_settings, appointment_id)
    words = "Can I bring my sister with me?"
    await reply(simulator, "07700900507", words)
    (received,) = await notification_events(test_settings, "ReplyReceived", appointment_id)
    assert received["intent"] == "unknown" and "sister" not in json.dumps(received)  # sealed
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.CALL_TAKER, "ct-9")) as client:
        answer = (await client.get(f"/appointments/{appointment_id}/messages")).json()
    assert [(r["intent"], r["words"]) for r in answer["replies"]] == [("unknown", words)]
    assert answer["call_back"] is False
    # Kept, not answered: the booked text is still the only one.
    assert len(await texts_for(test_settings, appointment_id, at_least=0)) == 1
    logged = await asyncio.to_thread(Path(notifications.log_path).read_text)
    assert "sister" not in logged and "ct-9" in logged  # who read it is logged, never what


async def test_no_event_header_key_dead_letter_or_log_line_carries_a_number_or_a_case_detail(
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    simulator, notifications = gateway_and_notifications
    # A receipt for no text of ours goes no further than the callback; a bad number is a 422 saying so.
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.GATEWAY, "notify")) as client:
        now = datetime.now(UTC).isoformat()
        stray = {"id": "stray-1", "reference": "07700 900777", "to": "+447700900777", "status": "delivered",
                 "created_at": now, "notification_type": "sms"}  # fmt: skip
        assert (await client.post("/gateway/receipts", json=stray)).status_code == 204
        bad = {"id": "x", "source_number": "07700 9OO777", "destination_number": "07700900000",
               "message": "hi", "date_received": now}  # fmt: skip
        refused = await client.post("/gateway/inbound", json=bad)
        assert refused.status_code == 422 and "9OO777" not in refused.text
    # A receipt on the topic naming no text of ours is dead-lettered, its reason repeating nothing of it.
    # Its reference holds a number, as a reference typed on Notify's own pages might.
    receipt = SmsReceipt.model_validate(
        {
            "id": "stray-2",
            "reference": "not-one-of-ours 07700 900778",
            "status": "delivered",
            "created_at": now,
        }
    )
    await publish(test_settings, receipt, f"receipt:{receipt.id}")
    dead: list[Any] = []
    for _ in range(15):
        records = await read_topic(
            test_settings.kafka_bootstrap, test_settings.topic("deadletter"), at_least=10_000, wait_seconds=2
        )
        # Only this receipt's: other tests put other records on the receipts topic.
        mine = f"receipt:{receipt.id}"
        dead = [
            r for r in records
            if header(r, "dlq_consumer") == "notifications-receipts" and header(r, "ce_subject") == mine
        ]  # fmt: skip
        if dead:
            break
    assert dead, "the stray receipt never reached the dead-letter topic"
    reason = header(dead[0], "dlq_reason") or ""
    assert "names no text" in reason and "not-one-of-ours" not in reason
    # Every dead letter of this service: its value sealed, its headers with nothing in clear.
    ours = [r for r in records if (header(r, "dlq_consumer") or "").startswith("notifications")]
    assert dead[0] in ours
    for record in ours:
        shown = record.value.decode(errors="replace") + " ".join(
            f"{k}={bytes(v).decode(errors='replace')}" for k, v in record.headers
        )
        assert clear_numbers(shown) == [] and "not-one-of-ours" not in shown
        assert not any(detail in shown for detail in CASE_DETAILS)
    for topic in (
        NOTIFICATIONS_EVENTS,
        SMS_OUTBOUND,
        "notifications.sms-receipts",
        "notifications.sms-inbound",
    ):
        for record in await read_topic(
            test_settings.kafka_bootstrap, test_settings.topic(topic), at_least=10_000, wait_seconds=2
        ):
            if header(record, "ce_subject") == mine:
                continue  # this test's own stray input, not something the service wrote
            headers = " ".join(f"{k}={bytes(v).decode()}" for k, v in record.headers)
            assert clear_numbers(headers) == [] and clear_numbers((record.key or b"").decode()) == [], topic
            value = record.value.decode()
            assert not any(detail in value or detail in headers for detail in CASE_DETAILS), topic
            if topic != SMS_OUTBOUND:  # the one place the gateway needs the number
                assert clear_numbers(value) == [], topic
    for process in (notifications, simulator):
        logged = await asyncio.to_thread(Path(process.log_path).read_text)
        assert clear_numbers(logged) == [], process.name
        assert not any(detail in logged for detail in CASE_DETAILS), process.name
