"""The staff directory on the real servers: a person who signs in names themselves to the roster
(PUT /staff/me, under their own token's subject and role), the roster records StaffMemberNamed on
roster.events only when the name is new or changed, and serves the names by subject (GET /staff)
to the roles that read its officers.

Each test names people of its own (subjects with a fresh uuid): no day, no diary is touched.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.base import parse_event
from schemas.roster import StaffMemberNamed
from services.common.auth import Role
from services.common.config import Settings
from services.roster.domain.staff import stream_id
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth, seed_county, service, wait_for_roster_county

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def roster(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The roster service as a real process on this run's topics and database."""
    booking, _ = booking_and_projections
    process = await service("roster", tmp_path_factory.mktemp("roster-staff-logs")).start()
    await wait_for_roster_county(process, await seed_county(booking))
    yield process
    process.stop()


def as_person(roster: ServiceProcess, role: Role, subject: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=roster.url, headers=auth(role, subject), timeout=30)


def someone(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def stored(settings: Settings, subject: str) -> list[str]:
    """The event types the roster's store holds on the person's stream."""
    conn = await asyncpg.connect(settings.database_url("roster"))
    try:
        rows = await conn.fetch(
            "select event_type from events where stream_id = $1 order by version", stream_id(subject)
        )
    finally:
        await conn.close()
    return [r["event_type"] for r in rows]


async def published(settings: Settings, subject: str, at_least: int) -> list[Any]:
    """The StaffMemberNamed records keyed by the subject on the run's roster.events."""
    topic = settings.topic("roster.events")
    found: list[Any] = []
    for _ in range(60):
        records = await read_topic(settings.kafka_bootstrap, topic, at_least=1, wait_seconds=5)
        key = subject.encode()
        found = [r for r in records if r.key == key and header(r, "ce_type") == "StaffMemberNamed"]
        if len(found) >= at_least:
            return found
    raise AssertionError(f"{len(found)} StaffMemberNamed of the subject reached roster.events")


async def test_a_call_taker_is_named_once_however_often_they_sign_in_and_again_when_renamed(
    roster: ServiceProcess, test_settings: Settings
) -> None:
    subject = someone("ct")
    async with as_person(roster, Role.CALL_TAKER, subject) as me:
        first = await me.put("/staff/me", json={"name": "  Ana   Kowalska "})
        again = await me.put("/staff/me", json={"name": "Ana Kowalska"})
        after_twice = await stored(test_settings, subject)
        renamed = await me.put("/staff/me", json={"name": "Ana Kowalska-Reid"})
    async with as_person(roster, Role.AUDITOR, someone("au")) as auditor:
        listed = await auditor.get("/staff")

    assert first.status_code == 201, first.text
    assert first.json() == {"subject": subject, "name": "Ana Kowalska", "role": "call-taker"}
    assert again.status_code == 200 and again.json() == first.json()
    assert after_twice == ["StaffMemberNamed"]  # the second, identical sign-in added no event
    assert renamed.status_code == 201 and renamed.json()["name"] == "Ana Kowalska-Reid"
    assert await stored(test_settings, subject) == ["StaffMemberNamed", "StaffMemberNamed"]
    assert listed.status_code == 200
    mine = [p for p in listed.json() if p["subject"] == subject]
    assert mine == [{"subject": subject, "name": "Ana Kowalska-Reid", "role": "call-taker"}]


async def test_the_name_is_published_on_roster_events_keyed_by_the_subject_with_who_named_it(
    roster: ServiceProcess, test_settings: Settings
) -> None:
    subject = someone("ps")
    async with as_person(roster, Role.SUPERVISOR, subject) as me:
        assert (await me.put("/staff/me", json={"name": "Sam Okafor"})).status_code == 201

    [record] = await published(test_settings, subject, 1)
    assert header(record, "actor") == f"supervisor:{subject}"
    assert header(record, "schema_version") == "1"
    event = parse_event("StaffMemberNamed", 1, json.loads(record.value))
    assert isinstance(event, StaffMemberNamed)
    assert (event.subject, event.role, event.name) == (subject, "supervisor", "Sam Okafor")


async def test_nobody_names_anyone_else_a_system_is_never_staff_and_bad_names_are_refused(
    roster: ServiceProcess, test_settings: Settings
) -> None:
    subject = someone("ct")
    async with as_person(roster, Role.CALL_TAKER, subject) as me:
        # The body has no subject: someone else's is refused as an unknown field, not recorded.
        other = await me.put("/staff/me", json={"name": "Mallory", "subject": "ps-2710"})
        empty = await me.put("/staff/me", json={"name": "   "})
        control = await me.put("/staff/me", json={"name": "Ana\u0007Bell"})
        too_long = await me.put("/staff/me", json={"name": "A" * 101})
    async with as_person(roster, Role.GATEWAY, "notify") as gateway:
        system = await gateway.put("/staff/me", json={"name": "GOV.UK Notify"})
        system_reads = await gateway.get("/staff")
    async with httpx.AsyncClient(base_url=roster.url, timeout=30) as anonymous:
        nobody = await anonymous.get("/staff")

    for refused in (other, empty, control, too_long):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"].endswith(("name", "subject")), refused.text
    assert (system.status_code, system_reads.status_code, nobody.status_code) == (403, 403, 401)
    assert await stored(test_settings, subject) == []


async def test_the_roster_never_writes_a_staff_member_s_name_in_its_log(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path: Path
) -> None:
    booking, _ = booking_and_projections
    own = await service("roster", tmp_path).start()
    try:
        await wait_for_roster_county(own, await seed_county(booking))
        async with as_person(own, Role.AUDITOR, someone("au")) as me:
            named = await me.put("/staff/me", json={"name": "Ottoline Featherstonehaugh"})
            renamed = await me.put("/staff/me", json={"name": "Ottoline Quillby"})
            listed = await me.get("/staff")
    finally:
        own.stop()  # its log is whole once it has stopped
    assert (named.status_code, renamed.status_code, listed.status_code) == (201, 201, 200)
    logged = own.log_path.read_text(errors="replace")
    assert "staff member named" in logged  # the log was written: its silence about names means something
    assert "Ottoline" not in logged and "Featherstonehaugh" not in logged and "Quillby" not in logged
