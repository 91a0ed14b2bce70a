"""`appointments erase` reaches the notifications' own tables, on the real servers.

A caller is booked, texted and replies; the notifications keep, of their own, the caller's number
sealed (in the appointment's state and each text), its keyed hash (to match replies) and the
reply's words sealed. After the erasure no table of theirs but the append-only events holds any of
it: not the number or the words in clear, not one of those ciphertexts, not the hash; a text still
to go is marked erased; the messages answer with the words gone, and reading them records nothing.
The same caller also came through the control room. The three topics that carry their details in
clear (the control room's request, the texts sent, the reply) hold them before the erasure and
no longer after: what their readers had taken is deleted from Kafka.
Its own calendar days: April 2029.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from schemas.topics import CONTROLROOM_REQUESTS, SMS_INBOUND, SMS_OUTBOUND
from services.booking.app.handlers import appointment_id_for
from services.common.auth import Role
from services.common.config import Settings
from tests.integration.test_controlroom_requests import answers_for, submit
from tests.integration.test_first_flow import booking_form
from tests.integration.test_notifications import (
    booked_and_replied,
    gateway_and_notifications,  # noqa: F401  (the notifications service and its Notify simulator)
)
from tests.support.kafka_reader import read_topic
from tests.support.services import TEST_SECRET, ServiceProcess, auth

pytestmark = pytest.mark.integration
APPOINTMENTS = Path(sys.executable).with_name("appointments")
DAY = "2029-04-10"
PHONE = "07700 900632"
WORDS = "My neighbour Quentin Blathwayt saw the van"
NEEDLES = ("900632", "Quentin", "Blathwayt")
# The caller's name as the control room sent it (in clear on its topic until the erasure).
CONTROL_ROOM_NAME = "Perpetua Gallowglass"
CLEAR_TOPICS = (CONTROLROOM_REQUESTS, SMS_OUTBOUND, SMS_INBOUND)


async def in_clear(settings: Settings) -> dict[str, list[str]]:
    """Per topic carrying details in clear, which of the caller's details any record's value holds."""
    found: dict[str, list[str]] = {}
    for topic in CLEAR_TOPICS:
        records = await read_topic(
            settings.kafka_bootstrap, settings.topic(topic), at_least=1, wait_seconds=3
        )
        text = "\n".join((r.value or b"").decode(errors="replace") for r in records).lower()
        found[topic] = [n for n in (*NEEDLES, CONTROL_ROOM_NAME) if n.lower() in text]
    return found


async def through_the_control_room(settings: Settings) -> None:
    """The same caller (same number) booked by the control room on DAY; once booking has taken it."""
    request_id = f"STORM-{uuid.uuid4().hex[:8]}"
    form = booking_form(DAY, "18:00", phone=PHONE)
    form["caller"]["name"] = CONTROL_ROOM_NAME
    await submit(settings, {"place": "station", "place_id": "stevenage", "request_id": request_id, **form})
    answers = await answers_for(settings, appointment_id_for(request_id), 1)
    assert [name for name, _ in answers] == ["SlotBooked"], answers


def erase(subject: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`appointments erase SUBJECT --yes ...` on this test run's stack, with the services' pseudonym key."""
    env = {**os.environ, "COLUMNS": "200", "APPOINTMENTS_TOKEN_SECRET": TEST_SECRET}
    command = [str(APPOINTMENTS), "erase", subject, "--yes", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


async def dump(url: str) -> dict[str, str]:
    """Every table of the database as text, row by row (what a dump of it would hold)."""
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "select table_name from information_schema.tables where table_schema = 'public'"
            " and table_type = 'BASE TABLE' order by 1"
        )
        return {
            r["table_name"]: await conn.fetchval(
                f"select coalesce(string_agg(t::text, chr(10)), '') from \"{r['table_name']}\" t"
            )
            for r in tables
        }
    finally:
        await conn.close()


async def test_erasure_empties_the_notifications_copies_of_the_caller(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],  # noqa: F811
    test_settings: Settings,
) -> None:
    booking, _ = booking_and_projections
    simulator, notifications = gateway_and_notifications
    appointment_id, subject = await booked_and_replied(
        booking, simulator, test_settings, officer_id="officer-erasure-2029",
        week_of=datetime(2029, 4, 9, tzinfo=UTC), day=DAY, phone=PHONE, words=WORDS,
    )  # fmt: skip

    await through_the_control_room(test_settings)
    url = test_settings.database_url("notifications")
    conn = await asyncpg.connect(url)
    try:
        state = json.loads(
            await conn.fetchval("select state from appointments where appointment_id = $1", appointment_id)
        )
        number_hash = await conn.fetchval(
            "select number_hash from appointments where appointment_id = $1", appointment_id
        )
        phones = [
            json.loads(p)
            for p in await conn.fetchval(
                "select array_agg(phone::text) from texts_due where appointment_id = $1", appointment_id
            )
        ]
        words = json.loads(
            await conn.fetchval("select body::text from replies where appointment_id = $1", appointment_id)
        )
        reminders = await conn.fetchval(
            "select count(*) from reminders where appointment_id = $1", appointment_id
        )
        # A text still to go, as a reminder or a text waiting for the morning is.
        await conn.execute(
            "insert into texts_due (message_id, appointment_id, subject_id, phone, template, template_id,"
            " personalisation, reference, send_at, correlation_id, queued_at)"
            " select gen_random_uuid(), appointment_id, subject_id, phone, template, template_id,"
            " personalisation, reference, now() + interval '30 days', correlation_id, now()"
            " from texts_due where appointment_id = $1 limit 1",
            appointment_id,
        )
    finally:
        await conn.close()
    # What the notifications keep of the caller before: the checks below can fail.
    ciphertexts = {state["phone"]["ciphertext"], words["ciphertext"], *(p["ciphertext"] for p in phones)}
    assert state["subject_id"] == subject and number_hash and all(ciphertexts) and len(phones) >= 1
    assert reminders > 0
    before = await dump(url)
    kept = {t for t, text in before.items() if t != "events" and any(c in text for c in ciphertexts)}
    assert kept == {"appointments", "texts_due", "replies"}
    assert any(number_hash in text for t, text in before.items() if t != "events")

    # On Kafka, in clear: the control room's request (number, name), the texts (number), the reply.
    clear = await in_clear(test_settings)
    assert "900632" in clear[CONTROLROOM_REQUESTS] and CONTROL_ROOM_NAME in clear[CONTROLROOM_REQUESTS]
    assert "900632" in clear[SMS_OUTBOUND] and "Blathwayt" in clear[SMS_INBOUND], clear

    erased = erase(subject, "--by", "admin:4021")
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "the number and its hash of 2 appointment(s)" in erased.stdout, erased.stdout
    assert "the words of 1 repl(ies)" in erased.stdout
    for topic in CLEAR_TOPICS:
        assert f"{topic}: " in erased.stdout and "NOT yet taken" not in erased.stdout, erased.stdout
    assert await in_clear(test_settings) == {topic: [] for topic in CLEAR_TOPICS}
    # Nor did any of the services that took them write them into a log.
    logged = {
        process.name: [n for n in (*NEEDLES, CONTROL_ROOM_NAME) if n in process.log_path.read_text()]
        for process in (booking, notifications)
    }
    assert logged == {booking.name: [], notifications.name: []}

    after = await dump(url)
    everything = "\n".join(after.values())
    assert not [n for n in NEEDLES if n.lower() in everything.lower()]  # nothing in clear, events too
    # Outside the append-only events (ciphertext whose key is gone), no copy at all.
    left = {t: [c for c in ciphertexts if c in text] for t, text in after.items() if t != "events"}
    assert all(not found for found in left.values()), left
    assert not any(number_hash in text for t, text in after.items() if t != "events")
    conn = await asyncpg.connect(url)
    try:
        statuses = await conn.fetch(
            "select status, outcome, phone from texts_due where appointment_id = $1 and send_at > now()",
            appointment_id,
        )
        assert [(r["status"], r["outcome"], r["phone"]) for r in statuses] == [("erased", "erased", None)]
        assert (
            await conn.fetchval("select count(*) from reminders where appointment_id = $1", appointment_id)
            == 0
        )
    finally:
        await conn.close()

    async with httpx.AsyncClient(
        base_url=notifications.url, headers=auth(Role.CALL_TAKER, "ct-4472")
    ) as client:
        answer = (await client.get(f"/appointments/{appointment_id}/messages")).json()
    assert [r["words"] for r in answer["replies"]] == [None]
    conn = await asyncpg.connect(url)
    try:  # recorded before the answer went, had anything been shown
        reads = await conn.fetchval(
            "select count(*) from events where event_type = 'RepliesRead' and data ->> 'appointment_id' = $1",
            appointment_id,
        )
    finally:
        await conn.close()
    assert reads == 0

    again = erase(subject)
    assert again.returncode == 0 and "of 0 appointment(s)" in again.stdout and "0 repl(ies)" in again.stdout
