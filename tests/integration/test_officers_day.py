"""An officer's day with briefings, and the access log of every opening (DPA 2018 s.62).

Two officers are registered on the roster (collar numbers 7301 and 7302); 7301 alone is on
appointment duty at Borehamwood on 12 May 2027, and two callers are booked into their day. The
day opens with the briefing in clear for that officer (a token for ``pc-7301``) and a supervisor,
an erased caller shows as erased, and the other officer and a call taker are refused. Each opening
is in the access log, over HTTP and from ``appointments access-log``, with who and whose, and
without the caller's name or number; a row of it edited by someone with the owner's rights is
caught by ``appointments audit verify``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from cli.erasure import erase_subject
from schemas.base import DomainEvent
from schemas.notifications import SmsDelivered, SmsQueued
from schemas.roster import OfficerRegistered
from services.common import kafka
from services.common.auth import Role
from services.common.commands import Metadata, outgoing
from services.common.config import Settings
from services.common.db import Login
from services.common.london import local
from services.common.shredding import KEYSTORE_DATABASE
from tests.support import roster
from tests.support.services import ServiceProcess, auth, wait_for_capacity

pytestmark = pytest.mark.integration
APPOINTMENTS = Path(sys.executable).with_name("appointments")
DAY = "2027-05-12"
OFFICER, OTHER = "officer-od-7301", "officer-od-7302"
NAME, PHONE = "Perpetua Quillfeather", "07700 900462"
SUMMARY = "ZYXWV bicycle taken from the Quillfeather shed"
ERASED_NAME = "Barnaby Oddlestone"


def appointments(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APPOINTMENTS), *args], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "400"}, timeout=120, check=False,
    )  # fmt: skip


async def book(booking: ServiceProcess, start: str, name: str, phone: str, case_reference: str) -> str:
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-od")) as client:
        booked = await client.post("/stations/borehamwood/appointments", json={
            "day": DAY, "start": start, "incident_grade": "scheduled",
            "caller": {"name": name, "phone": phone},
            "briefing": {"case_reference": case_reference, "summary": SUMMARY,
                         "background": "Second theft this month", "vulnerability": "Lives alone, anxious",
                         "access_needs": "Step-free room", "thrive_risk": "medium", "language": "pl",
                         "interpreter_needed": True, "safe_to_text": False, "safe_to_call": True},
        })  # fmt: skip
    assert booked.status_code == 201, booked.text
    appointment_id: str = booked.json()["appointment_id"]
    return appointment_id


async def texts_sent(settings: Settings, appointment_id: str) -> None:
    """A text to the caller and one to the officer about the appointment, each delivered by the gateway:
    on notifications.events as the notifications service's relay puts them."""
    now, events = datetime.now(UTC), list[DomainEvent]()
    for message_id, recipient in (
        (f"od-{appointment_id}-caller", "public"),
        (f"od-{appointment_id}-pc", "officer"),
    ):
        events += [
            SmsQueued(message_id=message_id, appointment_id=appointment_id, template="booked",
                      template_id="t-1",
                      reference=f"appointment:{appointment_id}:message:{message_id}", recipient=recipient,
                      send_at=now, queued_at=now),
            SmsDelivered(message_id=message_id, gateway_reference=f"notify-{message_id}", delivered_at=now),
        ]  # fmt: skip
    broker = kafka.make_broker(settings.kafka_bootstrap, "test-notifications")
    await broker.start()
    try:
        send = kafka.publisher(broker, settings.topic_prefix)
        meta = Metadata(correlation_id=appointment_id, actor="system:notifications", now=now)
        for event in events:
            out = outgoing(
                event,
                f"message:{event.stream_key()}",
                "urn:herts-police:station-appointments:notifications",
                meta,
            )
            await send(out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers())
    finally:
        await broker.stop()


async def officers_day(projections: ServiceProcess, role: Role, subject: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(role, subject)) as client:
        return await client.get(f"/officers/{OFFICER}/days/{DAY}")


async def briefed_day(projections: ServiceProcess, appointments_wanted: int) -> dict[str, Any]:
    """The day as a supervisor opens it, once the projections have every booking and the roster."""
    for _ in range(300):
        response = await officers_day(projections, Role.SUPERVISOR, "ps-od")
        if response.status_code == 200 and len(response.json()["appointments"]) == appointments_wanted:
            answer: dict[str, Any] = response.json()
            return answer
        assert response.status_code in (200, 404, 503), response.text  # 503: the key store opening
        await asyncio.sleep(0.2)
    raise TimeoutError("the projections never showed the officer's day")


async def access_log(projections: ServiceProcess, **params: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR, "au-od")) as client:
        response = await client.get("/access-log", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_an_officers_day_is_briefed_for_the_officer_and_supervisors_refused_to_others_and_logged(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    booking, projections = booking_and_projections
    now = datetime.now(UTC)
    registered = [
        OfficerRegistered(officer_id=officer, collar_number=collar, station_id="borehamwood",
                          district_id="hertsmere", registered_at=now)
        for officer, collar in ((OFFICER, "7301"), (OTHER, "7302"))
    ]  # fmt: skip
    starts = datetime(2027, 5, 12, 15, 0, tzinfo=UTC)  # 16:00 in London (summer time)
    duty = roster.duty(OFFICER, station="borehamwood", district="hertsmere", starts_at=starts,
                       ends_at=starts + timedelta(hours=5))  # fmt: skip
    await roster.publish(test_settings, [*registered, duty])
    await wait_for_capacity(booking, "borehamwood", DAY)
    kept = await book(booking, "17:00", NAME, PHONE, "41/73010/27")
    gone = await book(booking, "18:00", ERASED_NAME, "07700 900463", "41/73011/27")

    # The second caller is erased as `appointments erase` does it: their key destroyed, and their
    # sealed values emptied in the projections' history (so a replay compares equal, too).
    day = await briefed_day(projections, 2)
    by_id = {a["appointment_id"]: a for a in day["appointments"]}
    erased_subject = by_id[gone]["caller"]["subject_id"]
    assert (await erase_subject(test_settings, erased_subject, "admin:test")).key_destroyed

    # In clear for the officer assigned (by collar number, as the pages' users and local tokens name
    # them) and a supervisor; the erased caller shows as erased, their case reference still there.
    for role, subject in ((Role.OFFICER, "pc-7301"), (Role.OFFICER, "7301"), (Role.SUPERVISOR, "ps-od")):
        response = await officers_day(projections, role, subject)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["collar_number"] == "7301"
        shown = {a["appointment_id"]: a for a in response.json()["appointments"]}
        assert [shown[kept]["local_start"], shown[gone]["local_start"]] == [
            "2027-05-12T17:00:00+01:00", "2027-05-12T18:00:00+01:00",
        ]  # fmt: skip
        caller, briefing = shown[kept]["caller"], shown[kept]["briefing"]
        assert (caller["name"], caller["phone"], caller["erased"], caller["address"]) == (
            NAME, "+447700900462", False, None,
        )  # fmt: skip
        assert briefing["summary"] == SUMMARY and briefing["background"] == "Second theft this month"
        assert (
            briefing["vulnerability"] == "Lives alone, anxious"
            and briefing["access_needs"] == "Step-free room"
        )
        assert (briefing["interpreter_needed"], briefing["language"], briefing["safe_to_text"]) == (
            True,
            "pl",
            False,
        )
        assert briefing["thrive_risk"] == "medium" and briefing["case_reference"] == "41/73010/27"
        erased = shown[gone]
        assert erased["caller"]["erased"] is True and erased["caller"]["name"] is None
        assert erased["briefing"]["summary"] is None and erased["briefing"]["case_reference"] == "41/73011/27"
    subject = by_id[kept]["caller"]["subject_id"]

    # Refused to another officer, to an officer the roster does not know, and to a call taker.
    for role, who in ((Role.OFFICER, "pc-7302"), (Role.OFFICER, "pc-9999"), (Role.CALL_TAKER, "ct-od")):
        refused = await officers_day(projections, role, who)
        assert refused.status_code == 403, (who, refused.text)
        assert NAME not in refused.text
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        assert (await client.get("/officers/officer-nobody/days/2027-05-12")).status_code == 404
        assert (await client.get("/access-log", params={"subject": subject})).status_code == 403

    # The caller asks to come later: an alteration of their data, by the call taker who moved it.
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-od")) as client:
        body = {"day": DAY, "start": "19:00", "initiated_by": "public", "reason": "caller-asked"}
        moved = await client.post(f"/appointments/{kept}/reschedule", json=body)
    assert moved.status_code == 200, moved.text

    # Every opening is in the access log: who (sub and role), whose, which appointment, through what.
    today = local(datetime.now(UTC)).date()
    window = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    entries = await access_log(projections, subject=subject, **window)
    consulted = [(e["by"], e["appointment_id"]) for e in entries if e["operation"] == "consultation"]
    # The three openings above, in order, after the supervisor's while waiting for the day (which
    # showed the appointment too, once the projections had it).
    assert consulted[-3:] == [("officer:pc-7301", kept), ("officer:7301", kept), ("supervisor:ps-od", kept)]
    assert set(consulted[:-3]) == {("supervisor:ps-od", kept)}
    assert all(e["subject_id"] == subject for e in entries)
    assert {e["channel"] for e in entries if e["operation"] == "consultation"} == {
        "GET /officers/{officer_id}/days/{day}"
    }
    await texts_sent(test_settings, kept)
    for _ in range(150):  # the move and the texts reach the projections' history
        entries = await access_log(projections, subject=subject, **window)
        if {"alteration", "disclosure"} <= {e["operation"] for e in entries}:
            break
        await asyncio.sleep(0.2)
    assert [(e["operation"], e["what"], e["by"]) for e in entries if e["operation"] != "consultation"] == [
        ("collection", "SlotBooked", "call-taker:ct-od"),
        ("alteration", "AppointmentRescheduled", "call-taker:ct-od"),
        ("disclosure", "SmsDelivered", "system:notifications"),  # the caller's text; not the officer's
    ]
    (disclosed,) = [e for e in entries if e["operation"] == "disclosure"]
    assert (disclosed["recipient"], disclosed["appointment_id"], disclosed["channel"]) == (
        "the SMS gateway (GOV.UK Notify)", kept, "notifications.events",
    )  # fmt: skip
    assert {e["recorded_in"] for e in entries} == {"projections", "booking", "notifications"}
    assert not any(e["by"] and "7302" in e["by"] for e in entries)  # the refusals showed nothing
    assert NAME.split()[1] not in str(entries) and "900462" not in str(entries)
    (oldest,) = await access_log(projections, subject=subject, limit="1", **window)
    assert (oldest["operation"], oldest["what"]) == ("collection", "SlotBooked")
    # Consultations of anyone in the range; the erased caller's openings too, by their id alone.
    everyone = await access_log(projections, **window)
    assert {e["subject_id"] for e in everyone} >= {subject, erased_subject}
    assert await access_log(projections, subject=subject, **{"from": "2027-05-13", "to": "2027-05-14"}) == []

    command = appointments("access-log", "--subject", subject, "--url", projections.url)
    assert command.returncode == 0, command.stdout + command.stderr
    lines = [line for line in command.stdout.splitlines() if line.startswith("│")]
    assert sum("consultation" in line and "officer:pc-7301" in line and kept in line for line in lines) == 1
    assert sum("collection" in line and "SlotBooked" in line for line in lines) == 1
    assert sum("alteration" in line and "AppointmentRescheduled" in line for line in lines) == 1
    assert sum("disclosure" in line and "SmsDelivered" in line for line in lines) == 1
    assert NAME.split()[1] not in command.stdout and "900462" not in command.stdout

    # The access log's rows hold ids, never the data; they are chained, and an edit is caught.
    projections_db = await asyncpg.connect(test_settings.database_url("projections"))
    try:
        rows = await projections_db.fetch(
            "select stream_id, version, event_id, data::text as data from events"
            " where stream_id like 'access-log:%' order by stream_id, version"
        )
        assert rows and all(NAME.split()[1] not in r["data"] and "900462" not in r["data"] for r in rows)
        assert all(
            SUMMARY.split()[0] not in r["data"] and ERASED_NAME.split()[1] not in r["data"] for r in rows
        )
        monkeypatch.setenv("APPOINTMENTS_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
        monkeypatch.setenv("APPOINTMENTS_CHECKPOINT_KEYS_DIR", str(tmp_path / "keys"))
        held = appointments("audit", "verify", "--database", "projections")
        assert held.returncode == 0, held.stdout + held.stderr
        edited = next(r for r in rows if "pc-7301" in r["data"])
        await projections_db.execute("alter table events disable trigger user")
        try:
            await projections_db.execute(
                "update events set data = jsonb_set(data, '{accessed_by}', '\"ps-nobody\"')"
                " where event_id = $1",
                edited["event_id"],
            )
            broken = appointments("audit", "verify", "--database", "projections")
            assert broken.returncode == 1, broken.stdout + broken.stderr
            assert (
                f"stream {edited['stream_id']} version {edited['version']}" in broken.stdout + broken.stderr
            )
            assert str(edited["event_id"]) in broken.stdout + broken.stderr
        finally:
            # Put the row back as it was: the session's other tests verify this database too.
            await projections_db.execute(
                "update events set data = $2::jsonb where event_id = $1", edited["event_id"], edited["data"]
            )
            await projections_db.execute("alter table events enable trigger user")
        assert appointments("audit", "verify", "--database", "projections").returncode == 0
    finally:
        await projections_db.close()


async def test_the_projections_role_reads_the_key_store_keys_and_can_change_nothing(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    # The projections service has started, so its role has been granted its reading.
    url = test_settings.database_url(KEYSTORE_DATABASE)
    login = Login(test_settings.login_role("projections"), test_settings.login_password("projections"))
    conn = await asyncpg.connect(login.url(url))
    try:
        await conn.fetch("select subject_id, key from subject_keys limit 1")  # allowed: no error
        refused = [
            "update subject_keys set key = null",
            "delete from subject_keys",
            "insert into subject_keys (subject_id, key) values ('subject-x', '\\x00')",
            "select erased_by from subject_keys",
            "create table mine (x int)",
        ]
        for statement in refused:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()
