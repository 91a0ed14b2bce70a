"""Durable reminders on the real servers, and the new time a withdrawal gives the caller."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.topics import SMS_OUTBOUND
from services.common.auth import Role
from services.common.config import Settings
from tests.integration.test_first_flow import booking_form
from tests.integration.test_notifications import ANY_HOUR, texts_for
from tests.support import roster
from tests.support.kafka_reader import read_topic
from tests.support.services import ServiceProcess, auth, service, wait_for_capacity

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def notifications(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The notifications service alone (its texts wait on sms-outbound: no gateway here)."""
    process = await service("notifications", tmp_path_factory.mktemp("reminders"), **ANY_HOUR).start()
    yield process
    process.stop()


async def book(booking: ServiceProcess, station: str, day: str, start: str, phone: str) -> str:
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        response = await client.post(
            f"/stations/{station}/appointments", json=booking_form(day, start, phone=phone)
        )
    assert response.status_code == 201, response.text
    appointment_id: str = response.json()["appointment_id"]
    return appointment_id


async def reminders_of(settings: Settings, appointment_id: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(settings.database_url("notifications"))
    try:
        rows = await conn.fetch(
            "select kind, moves from reminders where appointment_id = $1 order by kind", appointment_id
        )
    finally:
        await conn.close()
    return [(r["kind"], r["moves"]) for r in rows]


async def make_due(settings: Settings, appointment_id: str, kind: str, moves: int) -> None:
    """The time of a reminder has come (as if the clock had run on while the service was down)."""
    conn = await asyncpg.connect(settings.database_url("notifications"))
    try:
        await conn.execute(
            "insert into reminders (appointment_id, kind, moves, due_at)"
            " values ($1, $2, $3, now() - interval '1 minute')"
            " on conflict (appointment_id, kind, moves) do update set due_at = excluded.due_at",
            appointment_id, kind, moves,
        )  # fmt: skip
    finally:
        await conn.close()


def templates(records: list[object]) -> list[str]:
    return [json.loads(r.value)["template"] for r in records]  # type: ignore[attr-defined]


async def test_a_reminder_due_while_the_service_was_down_is_sent_once_after_restart(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    appointment_id = await book(booking, "stevenage", "2027-02-22", "17:00", "07700 900601")
    assert templates(await texts_for(test_settings, appointment_id)) == ["appointment-booked"]
    assert await reminders_of(test_settings, appointment_id) == [("day-before", 0), ("soon", 0)]
    notifications.stop()
    await make_due(test_settings, appointment_id, "day-before", 0)
    await notifications.start()
    sent = await texts_for(test_settings, appointment_id, at_least=2)
    assert templates(sent) == ["appointment-booked", "reminder-day-before"]
    assert "tomorrow at 5pm" not in json.dumps(
        json.loads(sent[1].value)["personalisation"]
    )  # words are Notify's
    assert json.loads(sent[1].value)["personalisation"]["time"] == "5pm"
    notifications.stop()
    await notifications.start()
    await asyncio.sleep(3)
    assert templates(await texts_for(test_settings, appointment_id, at_least=3)) == [
        "appointment-booked", "reminder-day-before",
    ]  # fmt: skip
    assert await reminders_of(test_settings, appointment_id) == [("soon", 0)]


async def test_a_moved_appointment_s_old_reminder_never_goes_and_the_new_time_has_its_own(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    appointment_id = await book(booking, "stevenage", "2027-02-23", "17:00", "07700 900603")
    # The booked text has gone before the move (one still waiting would be withdrawn by it).
    assert templates(await texts_for(test_settings, appointment_id)) == ["appointment-booked"]
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        moved = await client.post(
            f"/appointments/{appointment_id}/reschedule",
            json={"day": "2027-02-23", "start": "19:00", "initiated_by": "public", "reason": "works late"},
        )
    assert moved.status_code == 200, moved.text
    assert templates(await texts_for(test_settings, appointment_id, at_least=2)) == [
        "appointment-booked", "appointment-booked",
    ]  # fmt: skip
    for _ in range(50):
        if await reminders_of(test_settings, appointment_id) == [("day-before", 1), ("soon", 1)]:
            break
        await asyncio.sleep(0.2)
    assert await reminders_of(test_settings, appointment_id) == [("day-before", 1), ("soon", 1)]
    await make_due(test_settings, appointment_id, "soon", 0)  # a reminder of the old time
    await asyncio.sleep(6)  # the sender's slow poll has passed
    assert len(await texts_for(test_settings, appointment_id, at_least=3)) == 2
    await make_due(test_settings, appointment_id, "soon", 1)
    sent = await texts_for(test_settings, appointment_id, at_least=3)
    assert templates(sent)[-1] == "reminder-soon"
    assert json.loads(sent[-1].value)["personalisation"]["time"] == "7pm"


async def test_a_move_made_while_the_service_was_down_voids_the_reminder_that_fell_due_meanwhile(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    appointment_id = await book(booking, "stevenage", "2027-02-25", "17:00", "07700 900604")
    assert templates(await texts_for(test_settings, appointment_id)) == ["appointment-booked"]
    notifications.stop()
    await make_due(test_settings, appointment_id, "day-before", 0)
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        moved = await client.post(
            f"/appointments/{appointment_id}/reschedule",
            json={"day": "2027-02-25", "start": "19:00", "initiated_by": "public", "reason": "works late"},
        )
    assert moved.status_code == 200, moved.text
    await notifications.start()
    sent = await texts_for(test_settings, appointment_id, at_least=2)
    await asyncio.sleep(3)
    sent = await texts_for(test_settings, appointment_id, at_least=3)
    assert templates(sent) == ["appointment-booked", "appointment-booked"]
    assert json.loads(sent[1].value)["personalisation"]["time"] == "7pm"
    assert await reminders_of(test_settings, appointment_id) == [("day-before", 1), ("soon", 1)]


async def test_an_officer_withdrawn_with_no_free_colleague_gives_the_caller_the_new_time(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    duty = roster.duty(
        "officer-ch-n1", station="cheshunt", district="broxbourne",
        starts_at=datetime(2027, 3, 9, 16, tzinfo=UTC), ends_at=datetime(2027, 3, 9, 21, tzinfo=UTC),
    )  # fmt: skip
    await roster.publish(test_settings, [duty])
    await wait_for_capacity(booking, "cheshunt", "2027-03-09")
    appointment_id = await book(booking, "cheshunt", "2027-03-09", "17:00", "07700 900602")
    # The booked text has gone before the withdrawal (one still waiting would be withdrawn by the move).
    assert templates(await texts_for(test_settings, appointment_id)) == ["appointment-booked"]
    withdrawn = roster.withdrawal(
        "officer-ch-n1",
        datetime(2027, 3, 9, 17, tzinfo=UTC),
        datetime(2027, 3, 9, 18, tzinfo=UTC),
        "sickness",
    )
    await roster.publish(test_settings, [withdrawn])
    sent = await texts_for(test_settings, appointment_id, at_least=2)
    assert templates(sent) == ["appointment-booked", "appointment-moved"]
    moved = json.loads(sent[1].value)["personalisation"]
    assert moved["time"] == "6pm" and moved["day"] == "Tuesday 9 March 2027"
    assert moved["place"] == "Cheshunt Police Station"
    assert moved["reason"] == "the officer due to see you is no longer available"
    assert "sickness" not in json.dumps(moved)


async def officer_texts_to(settings: Settings, mobile: str, at_least: int) -> list[dict[str, Any]]:
    """The texts on sms-outbound to one officer's mobile, oldest first."""
    found: list[dict[str, Any]] = []
    for _ in range(15):
        records = await read_topic(
            settings.kafka_bootstrap, settings.topic(SMS_OUTBOUND), at_least=10_000, wait_seconds=2
        )
        found = sorted(
            (json.loads(r.value) for r in records if json.loads(r.value)["phone_number"] == mobile),
            key=lambda v: str(v["queued_at"]),
        )
        if len(found) >= at_least:
            break
    return found


async def test_an_officer_on_appointment_duty_is_texted_each_change_and_their_day(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    notifications: ServiceProcess,
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.SUPERVISOR)) as client:
        refused = await client.put("/officers/officer-ch-o1/mobile", json={"mobile": "01707 806100"})
        assert refused.status_code == 422 and "806100" not in refused.text  # a landline: no texts
        assert (
            await client.put("/officers/officer-ch-o1/mobile", json={"mobile": "07700 900901"})
        ).status_code == 204
    duty = roster.duty(
        "officer-ch-o1", station="cheshunt", district="broxbourne",
        starts_at=datetime(2027, 3, 16, 16, tzinfo=UTC), ends_at=datetime(2027, 3, 16, 21, tzinfo=UTC),
    )  # fmt: skip
    await roster.publish(test_settings, [duty])
    await wait_for_capacity(booking, "cheshunt", "2027-03-16")
    appointment_id = await book(booking, "cheshunt", "2027-03-16", "17:00", "07700 900605")
    (change,) = await officer_texts_to(test_settings, "+447700900901", 1)
    assert change["template"] == "officer-change" and change["appointment_id"] == appointment_id
    assert change["personalisation"] == {
        "day": "Tuesday 16 March 2027", "change": "a new appointment", "time": "5pm",
    }  # fmt: skip
    conn = await asyncpg.connect(test_settings.database_url("notifications"))
    try:
        await conn.execute(
            "update officer_days set due_at = now() - interval '1 minute' where duty_id = $1", duty.duty_id
        )
        await conn.execute("select pg_notify('texts_due', '')")
    finally:
        await conn.close()
    day = (await officer_texts_to(test_settings, "+447700900901", 2))[-1]
    assert day["template"] == "officer-day"
    assert day["personalisation"] == {
        "day": "Tuesday 16 March 2027", "place": "Cheshunt Police Station", "window": "4pm to 9pm",
        "count": "1",
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        cancelled = await client.post(
            f"/appointments/{appointment_id}/cancel",
            json={"initiated_by": "public", "reason": "no-longer-needed"},
        )
    assert cancelled.status_code == 200, cancelled.text
    last = (await officer_texts_to(test_settings, "+447700900901", 3))[-1]
    assert last["personalisation"]["change"] == "an appointment cancelled"
    assert "Citizen" not in json.dumps(last) and "Bike" not in json.dumps(last)
