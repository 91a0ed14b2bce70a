"""A caller's details never leave the sealed fields: not in logs, topics, error bodies or tables.

A call taker books with a known name, phone, address and briefing, and staff move and cancel it
with words of their own; then every error path a
caller's details can reach is forced: a phone that is no phone, a name far too long, a
request id reused for someone else, a control-room request refused for a bad field, one with
no request id at all (a dead letter), a waitlist join refused. Then the services' logs,
every topic of this run but the control room's own input (kept only a week: README,
"Retention"), and every table of booking and projections are searched for those details.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from schemas.topics import (
    BOOKING_EVENTS,
    DEADLETTER,
    NOTIFICATIONS_EVENTS,
    ROSTER_EVENTS,
    SMS_INBOUND,
    SMS_OUTBOUND,
    SMS_RECEIPTS,
)
from services.common.auth import Role
from services.common.config import Settings
from tests.integration.test_controlroom_requests import submit
from tests.support.kafka_reader import read_topic
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
NAME = "Zebedee Quartermaine"
PHONE = "07700 900462"
ADDRESS = "12 Plover Lane"
SUMMARY = "XYZZY bicycle taken from the Plover Lane shed"
# Staff's own words: a reason typed as free text (an older client) and a note beside a code.
STAFF_WORDS = "Wombatgrove night shifts"
STAFF_NOTE = "Frobnitz asked us to call after six"
# What must never be found in clear: the surname, the phone's digits, the street, the summary,
# and what staff typed about the caller.
NEEDLES = ("Quartermaine", "900462", "Plover Lane", "XYZZY", "Wombatgrove", "Frobnitz")
DAY = "2027-05-26"  # a day no other test books: this one needs two of its slots


def form(start: str, **caller: Any) -> dict[str, Any]:
    return {
        "day": DAY,
        "start": start,
        "incident_grade": "scheduled",
        "caller": {"name": NAME, "phone": PHONE, **caller},
        "briefing": {
            "case_reference": "41/99999/26",
            "summary": SUMMARY,
            "background": f"Neighbour at {ADDRESS} saw it",
            "thrive_risk": "low",
            "safe_to_text": True,
            "safe_to_call": True,
        },
    }


def found_in(text: str) -> list[str]:
    return [n for n in NEEDLES if n.lower() in text.lower()]


async def free_start(client: httpx.AsyncClient, day: str = DAY) -> str:
    response = await client.get("/stations/stevenage/free-slots", params={"from": day, "to": day})
    assert response.status_code == 200, response.text
    slots = response.json()
    assert slots, "no free slot left on the test day"
    starts_at = datetime.fromisoformat(slots[-1]["starts_at"]).astimezone(ZoneInfo("Europe/London"))
    return starts_at.strftime("%H:%M")


async def staff_change_it(client: httpx.AsyncClient, appointment_id: str) -> None:
    """Staff move it with free words as the reason, then cancel it with a note beside the code."""
    later = await free_start(client)
    moved = await client.post(
        f"/appointments/{appointment_id}/reschedule",
        json={"day": DAY, "start": later, "initiated_by": "police", "reason": STAFF_WORDS},
    )
    assert moved.status_code == 200, moved.text
    cancelled = await client.post(
        f"/appointments/{appointment_id}/cancel",
        json={"initiated_by": "public", "reason": "other", "note": STAFF_NOTE},
    )
    assert cancelled.status_code == 200, cancelled.text


async def force_every_path(booking: ServiceProcess, settings: Settings) -> list[str]:
    """Book once, then walk every error path with the caller's details; returns the error bodies."""
    bodies: list[str] = []
    request_id = f"pii-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-pii")) as client:
        start = await free_start(client)
        booked = await client.post(
            "/stations/stevenage/appointments", json={**form(start), "request_id": request_id}
        )
        assert booked.status_code == 201, booked.text
        await staff_change_it(client, booked.json()["appointment_id"])
        attempts = [
            ("/stations/stevenage/appointments", form(start, phone=f"Zeb {PHONE}")),  # a name in the phone
            ("/stations/stevenage/appointments", form(start, name=NAME * 40)),  # far too long
            (
                "/stations/stevenage/appointments",
                {**form(start, phone="07700 900999"), "request_id": request_id},
            ),
            ("/stations/atlantis/appointments", form(start)),  # no such station
            ("/waitlist", {**form(start), "place": "station", "place_id": "stevenage", "from_day": "x"}),
        ]
        for path, body in attempts:
            response = await client.post(path, json=body)
            assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
            bodies.append(response.text)
    bad_field = {"place": "station", "place_id": "stevenage", "request_id": f"cr-{uuid.uuid4().hex[:8]}",
                 **form("09:00", phone=f"call {NAME} on {PHONE}")}  # fmt: skip
    await submit(settings, bad_field)
    await submit(settings, {"place": "moon", "caller": {"name": NAME, "phone": PHONE}}, key="pii-no-id")
    return bodies


async def tables_holding(url: str, needle: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "select table_name from information_schema.tables where table_schema = 'public'"
            " and table_type = 'BASE TABLE'"
        )
        holding = []
        for row in tables:
            table = row["table_name"]
            count = await conn.fetchval(
                f'select count(*) from "{table}" t where t::text ilike $1', f"%{needle}%"
            )
            if count:
                holding.append(f"{url.rsplit('/', 1)[-1]}.{table}")
        return holding
    finally:
        await conn.close()


async def test_a_callers_details_are_found_nowhere_in_clear(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    bodies = await force_every_path(booking, test_settings)
    assert all(not found_in(body) for body in bodies), [b for b in bodies if found_in(b)]

    # Let the refusal, the dead letter and the diary row land before looking.
    await asyncio.sleep(3)
    topics = [BOOKING_EVENTS, ROSTER_EVENTS, NOTIFICATIONS_EVENTS, SMS_OUTBOUND, SMS_RECEIPTS, SMS_INBOUND,
              DEADLETTER]  # fmt: skip
    leaks: list[str] = []
    keys_seen: set[bytes] = set()
    for topic in topics:
        # The two topics this test certainly wrote to are read until something is there.
        least = 1 if topic in (BOOKING_EVENTS, DEADLETTER) else 0
        for record in await read_topic(test_settings.kafka_bootstrap, test_settings.topic(topic),
                                       at_least=least, wait_seconds=10):  # fmt: skip
            keys_seen.add(record.key or b"")
            text = b" ".join(
                [record.key or b"", record.value or b"", *(bytes(v) for _, v in record.headers or ())]
            ).decode(errors="replace")
            leaks += [f"{topic}: {n}" for n in found_in(text)]
    assert b"pii-no-id" in keys_seen, "the dead letter was never read: the search would prove nothing"
    for process in (booking, projections):
        leaks += [f"{process.name} log: {n}" for n in found_in(process.log_path.read_text(errors="replace"))]
    for database in ("booking", "projections"):
        for needle in NEEDLES:
            leaks += [
                f"{t}: {needle}" for t in await tables_holding(test_settings.database_url(database), needle)
            ]
    assert leaks == []
