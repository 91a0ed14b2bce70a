"""`appointments erase SUBJECT` on the real services: a booked caller becomes unreadable everywhere.

Book a caller; find their subject id as an operator would (by case reference, and by phone);
sign a checkpoint; erase. Then their details open nowhere: booking's events and Kafka keep
ciphertext whose key is gone, the projections' history holds no ciphertext of theirs at all,
and no database, topic, service log or the command's own output holds them in clear. The
history and the diary as it stood still answer, and `audit verify` still passes against the
checkpoint signed before the erasure.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from schemas.personal import Sealed
from schemas.topics import BOOKING_EVENTS
from services.common.auth import Role
from services.common.config import Settings
from services.common.shredding import KEYSTORE_DATABASE, PgKeyStore
from tests.integration.test_personal_data_sealed import free_start, tables_holding
from tests.support.kafka_reader import read_topic
from tests.support.services import TEST_SECRET, ServiceProcess, auth

pytestmark = pytest.mark.integration
LONDON = ZoneInfo("Europe/London")
# The day its bookings (and test_audit_history's, made through book()) are on, which no other test books.
DAY = "2027-05-27"
APPOINTMENTS = Path(sys.executable).with_name("appointments")
NAME = "Ottoline Wetherspoon"
PHONE = "07700 900731"
SUMMARY = "QWERTZ moped taken from outside the Wetherspoon flat"
NEEDLES = ("Ottoline", "Wetherspoon", "900731", "QWERTZ")


def appointments(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APPOINTMENTS), *args], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200", **env}, timeout=120, check=False,
    )  # fmt: skip


def sealed_in(value: Any) -> list[Sealed]:
    """Every sealed value anywhere in an event's data."""
    if isinstance(value, dict):
        if value.keys() == {"subject_id", "nonce", "ciphertext"}:
            return [Sealed.model_validate(value)]
        return [s for v in value.values() for s in sealed_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in sealed_in(v)]
    return []


def found_in(text: str) -> list[str]:
    return [n for n in NEEDLES if n.lower() in text.lower()]


async def book(booking: ServiceProcess, case_reference: str) -> str:
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-erase")) as client:
        start = await free_start(client, DAY)
        booked = await client.post("/stations/stevenage/appointments", json={
            "day": DAY, "start": start, "incident_grade": "scheduled",
            "caller": {"name": NAME, "phone": PHONE},
            "briefing": {"case_reference": case_reference, "summary": SUMMARY,
                         "background": f"{NAME} saw it go", "thrive_risk": "low",
                         "safe_to_text": True, "safe_to_call": True},
        })  # fmt: skip
    assert booked.status_code == 201, booked.text
    appointment_id: str = booked.json()["appointment_id"]
    return appointment_id


async def history(projections: ServiceProcess, appointment_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR, "audit-1")) as client:
        for _ in range(150):
            response = await client.get(f"/appointments/{appointment_id}/history")
            if response.status_code == 200:
                items: list[dict[str, Any]] = response.json()
                return items
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the projections never recorded {appointment_id}")


async def opened(settings: Settings, sealed: list[Sealed]) -> list[str | None]:
    pool = await asyncpg.create_pool(settings.database_url(KEYSTORE_DATABASE), min_size=1, max_size=1)
    assert pool is not None
    try:
        keys = PgKeyStore(pool)
        return [await keys.open(s) for s in sealed]
    finally:
        await pool.close()


async def test_an_erased_caller_is_readable_nowhere_and_the_chains_still_hold(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings, tmp_path: Path
) -> None:
    booking, projections = booking_and_projections
    case_reference = f"41/{uuid.uuid4().int % 100000:05d}/27"
    appointment_id = await book(booking, case_reference)
    await history(projections, appointment_id)
    stored = await asyncpg.connect(test_settings.database_url("booking"))
    try:
        rows = await stored.fetch(
            "select data::text from events where data ->> 'appointment_id' = $1", appointment_id
        )
    finally:
        await stored.close()
    sealed = [s for r in rows for s in sealed_in(json.loads(r["data"]))]
    subject = sealed[0].subject_id
    assert {s.subject_id for s in sealed} == {subject}
    assert NAME in await opened(test_settings, sealed)  # readable before: the checks below can fail

    env = {
        "APPOINTMENTS_TOKEN_SECRET": TEST_SECRET,  # the services' pseudonym key
        "APPOINTMENTS_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "APPOINTMENTS_CHECKPOINT_KEYS_DIR": str(tmp_path / "keys"),
    }
    for finder in (("--case-reference", case_reference), ("--phone", PHONE)):
        found = appointments("subject", *finder, env=env)
        assert found.returncode == 0 and subject in found.stdout and " live " in found.stdout, found.stdout
    chains = ("--database", "booking", "--database", "projections")
    signed = appointments("audit", "checkpoint", *chains, env=env)
    assert signed.returncode == 0, signed.stdout + signed.stderr

    erased = appointments("erase", subject, "--yes", "--by", "admin:4021", env=env)
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "key destroyed now" in erased.stdout and "data subject erased" in erased.stdout + erased.stderr
    assert found_in(erased.stdout + erased.stderr) == []

    # Booking's events and Kafka keep the ciphertext, which nothing opens any more.
    assert await opened(test_settings, sealed) == [None] * len(sealed)
    records = await read_topic(test_settings.kafka_bootstrap, test_settings.topic(BOOKING_EVENTS), at_least=1)
    on_kafka = [
        s for r in records if r.key == appointment_id.encode() for s in sealed_in(json.loads(r.value))
    ]
    assert on_kafka and await opened(test_settings, on_kafka) == [None] * len(on_kafka)
    # The projections hold none of it: every sealed value of the subject is emptied.
    items = await history(projections, appointment_id)
    kept = [s for item in items for s in sealed_in(item["data"]) if s.subject_id == subject]
    assert kept and all(s.ciphertext == "" and s.nonce == "" for s in kept)
    leaks = []
    for s in sealed:
        leaks += await tables_holding(test_settings.database_url("projections"), s.ciphertext)
    for database in ("booking", "projections", KEYSTORE_DATABASE):
        for needle in NEEDLES:
            leaks += [
                f"{t}: {needle}" for t in await tables_holding(test_settings.database_url(database), needle)
            ]
    for record in records:
        leaks += [f"kafka: {n}" for n in found_in((record.value or b"").decode(errors="replace"))]
    for process in (booking, projections):
        leaks += [f"{process.name} log: {n}" for n in found_in(process.log_path.read_text(errors="replace"))]
    assert leaks == []

    keys = await asyncpg.connect(test_settings.database_url(KEYSTORE_DATABASE))
    try:
        tombstone = await keys.fetchrow(
            "select key, erased_by from subject_keys where subject_id = $1", subject
        )
    finally:
        await keys.close()
    assert tombstone is not None and tombstone["key"] is None and tombstone["erased_by"] == "admin:4021"
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        as_it_stood = await client.get(
            f"/diaries/stations/stevenage/{DAY}", params={"at": "2030-01-01T00:00:00Z"}
        )
    assert as_it_stood.status_code == 200 and appointment_id in as_it_stood.text

    again = appointments("erase", subject, "--yes", env=env)
    assert again.returncode == 0 and "already destroyed" in again.stdout and "from 0 event(s)" in again.stdout
    # Both erasures are in the access log (DPA 2018 s.62): who, when, what was emptied; over HTTP
    # and the command, by subject and among every entry of the day; chained with the consultations.
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR, "audit-1")) as client:
        by_subject = (await client.get("/access-log", params={"subject": subject})).json()
        today = datetime.now(LONDON).date().isoformat()
        day = {"from": today, "to": today, "limit": "5000"}
        of_the_day = (await client.get("/access-log", params=day)).json()
    erasures = [e for e in by_subject if e["operation"] == "erasure"]
    assert [(e["by"], e["subject_id"], e["channel"]) for e in erasures] == [
        ("admin:4021", subject, "appointments erase"),
        (f"admin:{getpass.getuser()}", subject, "appointments erase"),
    ]
    assert "key destroyed;" in erasures[0]["what"] and "key already destroyed" in erasures[1]["what"]
    listed = [e["event_id"] for e in of_the_day if e["operation"] == "erasure" and e["subject_id"] == subject]
    assert listed == [e["event_id"] for e in erasures]
    logged = appointments("access-log", "--subject", subject, "--url", projections.url, env=env)
    assert logged.returncode == 0 and logged.stdout.count(" erasure ") == 2, logged.stdout
    assert found_in(json.dumps(by_subject) + logged.stdout) == []
    assert " erased " in appointments("subject", "--case-reference", case_reference, env=env).stdout
    verified = appointments("audit", "verify", *chains, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "every chain holds" in verified.stdout and "No signed checkpoint" not in verified.stdout
    assert appointments("erase", "subject-000000000000000000000000", "--yes", env=env).returncode == 1
