"""PostgreSQL killed under load: every booking is answered 201, 409 or 503 (never 500), none is lost.

Booking runs on a PostgreSQL cluster of this test's own (the suite's shared one must live),
made by the project's own stack code in a state folder of its own. Call takers keep
booking while the postmaster is SIGKILLed and then started again; each answer must be one
a call taker can act on, and every booking answered 201 must be in the store afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from tests.support.services import ServiceProcess, auth, seed_county, service, wait_for_capacity

pytestmark = pytest.mark.integration
STATION, FIRST, LAST = "stevenage", "2027-02-03", "2027-02-20"
ACCEPTABLE = {201, 409, 503}


def _stack(state: Path, code: str) -> str:
    """Run cli.stack code against the cluster in ``state``; returns the last line it printed."""
    env = {**os.environ, "APPOINTMENTS_STATE_DIR": str(state)}
    env.pop("APPOINTMENTS_PG_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


START = "from cli.stack.postgres import ensure_postgres; print(ensure_postgres())"


@pytest.fixture
def own_cluster() -> Iterator[tuple[str, Path]]:
    """A PostgreSQL cluster of this test's own: its owner URL and state folder."""
    state = Path(tempfile.mkdtemp(prefix="sa-outage-", dir="/tmp"))
    state.chmod(0o755)  # the postgres OS user runs the cluster inside it
    try:
        yield _stack(state, START), state
    finally:
        _stack(state, "from cli.stack.postgres import stop_postgres; stop_postgres()")
        shutil.rmtree(state, ignore_errors=True)


def _postmaster(state: Path) -> int:
    return int((state / "pg" / "data" / "postmaster.pid").read_text().split()[0])


async def _slots(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    response = await client.get(f"/stations/{STATION}/free-slots", params={"from": FIRST, "to": LAST})
    assert response.status_code == 200, response.text
    london = ZoneInfo("Europe/London")
    starts = [datetime.fromisoformat(s["starts_at"]).astimezone(london) for s in response.json()]
    return [(s.date().isoformat(), s.strftime("%H:%M")) for s in starts]


def _form(day: str, start: str) -> dict[str, object]:
    return {
        "day": day, "start": start, "incident_grade": "scheduled", "request_id": str(uuid.uuid4()),
        "caller": {"name": "Jo Example", "phone": "07700 900321"},
        "briefing": {"case_reference": "41/777/27", "summary": "x", "thrive_risk": "low",
                     "safe_to_text": False, "safe_to_call": True},
    }  # fmt: skip


async def test_bookings_through_a_database_crash_are_answered_and_none_is_lost(
    own_cluster: tuple[str, Path],
    test_settings: Settings,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],  # the run's roster is published
    tmp_path: Path,
) -> None:
    url, state = own_cluster
    suffix = f"{test_settings.db_suffix}outage"
    booking = service("booking", tmp_path, APPOINTMENTS_PG_URL=url, APPOINTMENTS_DB_SUFFIX=suffix)
    await booking.start(wait_seconds=90)
    try:
        await seed_county(booking)
        await wait_for_capacity(booking, STATION, FIRST)
        answers: list[tuple[int, str | None]] = []
        async with httpx.AsyncClient(
            base_url=booking.url, headers=auth(Role.CALL_TAKER), timeout=30
        ) as client:
            slots = await _slots(client)
            assert len(slots) >= 30, slots
            queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
            for slot in slots:
                queue.put_nowait(slot)
            warmed = asyncio.Event()

            async def call_taker() -> None:
                # As a call taker would: a 503 is tried again after its Retry-After, the same slot.
                deadline = asyncio.get_running_loop().time() + 90
                while not queue.empty() and asyncio.get_running_loop().time() < deadline:
                    day, start = queue.get_nowait()
                    response = await client.post(f"/stations/{STATION}/appointments", json=_form(day, start))
                    booked = response.json().get("appointment_id") if response.status_code == 201 else None
                    answers.append((response.status_code, booked))
                    if len(answers) >= 8:
                        warmed.set()
                    if response.status_code == 503:
                        assert response.headers.get("retry-after"), response.text
                        queue.put_nowait((day, start))
                        await asyncio.sleep(min(float(response.headers["retry-after"]), 1.0))

            async def crash() -> None:
                await warmed.wait()
                os.kill(_postmaster(state), signal.SIGKILL)
                await asyncio.sleep(2.0)
                await asyncio.to_thread(_stack, state, START)  # started again, recovering from the crash

            await asyncio.gather(crash(), *(call_taker() for _ in range(4)))
        statuses = {status for status, _ in answers}
        assert statuses <= ACCEPTABLE, [a for a in answers if a[0] not in ACCEPTABLE]
        assert 503 in statuses, "the crash was never seen: the test proved nothing"
        booked = [appointment for status, appointment in answers if status == 201]
        assert booked and answers[-1][0] in (201, 409), "booking did not come back after the restart"
        assert sum(1 for status, _ in answers if status != 503) == len(slots)  # every slot got its answer
        db = await asyncpg.connect(f"{url}/booking{suffix}")
        try:
            stored = await db.fetch("select appointment_id from appointment_locations")
        finally:
            await db.close()
        assert set(booked) <= {r["appointment_id"] for r in stored}  # every 201 was kept
    finally:
        booking.stop()
