"""SIGKILL the booking service in the middle of 500 bookings: nothing acknowledged is lost or doubled."""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from services.common.reference import load_county
from tests.integration.test_first_flow import booking_form
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth, seed_county, service, wait_for_capacity

pytestmark = pytest.mark.integration
BOOKINGS = 500
IN_FLIGHT = 25
KILL_AFTER = 150


async def free_slots(client: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    """(station, day, start) of free future slots across the county, enough for every booking."""
    found: list[tuple[str, str, str]] = []
    for station in (s for s in load_county().stations if s.offers_appointments):
        response = await client.get(f"/stations/{station.id}/free-slots?from=2027-05-03&to=2027-06-30")
        assert response.status_code == 200, response.text
        for slot in response.json():
            local = slot["starts_at"]  # UTC; BST in these months, so the London hour is one more
            hour = int(local[11:13]) + 1
            found.append((station.id, local[:10], f"{hour:02d}:00"))
    return found


async def test_a_sigkill_mid_booking_loses_no_acknowledged_booking_and_doubles_none(
    test_settings: Settings,
    tmp_path: Path,
    run_id: str,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],  # the roster is on Kafka
) -> None:
    suffix = f"_crash{run_id}"
    booking = await service("booking", tmp_path, APPOINTMENTS_DB_SUFFIX=suffix).start()
    await seed_county(booking)
    await wait_for_capacity(booking, "stevenage", "2027-06-30")
    projections = await service("projections", tmp_path, APPOINTMENTS_DB_SUFFIX=suffix).start()
    acknowledged: list[str] = []
    cut_off = 0
    try:
        async with httpx.AsyncClient(
            base_url=booking.url, headers=auth(Role.CALL_TAKER), timeout=30
        ) as client:
            slots = (await free_slots(client))[:BOOKINGS]
            assert len(slots) == BOOKINGS
            gate = asyncio.Semaphore(IN_FLIGHT)
            killed = asyncio.Event()

            async def book(station: str, day: str, start: str) -> None:
                nonlocal cut_off
                async with gate:
                    if killed.is_set():
                        cut_off += 1
                        return
                    try:
                        response = await client.post(
                            f"/stations/{station}/appointments", json=booking_form(day, start)
                        )
                    except httpx.HTTPError:
                        cut_off += 1
                        return
                assert response.status_code == 201, response.text
                acknowledged.append(response.json()["appointment_id"])
                if len(acknowledged) == KILL_AFTER:
                    booking.kill()
                    killed.set()

            await asyncio.gather(*(book(*slot) for slot in slots))
        assert len(acknowledged) >= KILL_AFTER and cut_off > 0
        restarted = await ServiceProcess(booking.name, booking.port, booking.env, booking.log_path).start()
        try:
            diaries = {f"station:{station}:{day}" for station, day, _ in slots}
            await assert_exactly_once(acknowledged, diaries, test_settings, suffix)
        finally:
            restarted.stop()
    finally:
        booking.kill()
        projections.stop()


async def assert_exactly_once(
    acknowledged: list[str], diaries: set[str], settings: Settings, suffix: str
) -> None:
    wanted = set(acknowledged)
    records: list[Any] = []
    for _ in range(30):
        records = await read_topic(settings.kafka_bootstrap, settings.topic("booking.events"), at_least=1)
        if wanted <= {r.key.decode() for r in records}:
            break
        await asyncio.sleep(1)
    # Only this test's diary days: other tests share the topic.
    booked = collections.Counter(
        r.key.decode()
        for r in records
        if header(r, "ce_type") == "SlotBooked" and header(r, "ce_subject") in diaries
    )
    assert all(booked[a] == 1 for a in acknowledged), [a for a in acknowledged if booked[a] != 1][:5]
    assert all(n == 1 for n in booked.values())  # a cut-off booking appears at most once
    url = settings.database_url("projections").removesuffix(settings.db_suffix) + suffix
    conn = await asyncpg.connect(url)
    try:
        for _ in range(60):
            rows = await conn.fetch(
                "select appointment_id from diary where appointment_id = any($1::text[])", acknowledged
            )
            if len(rows) == len(wanted):
                break
            await asyncio.sleep(0.5)
        assert {r["appointment_id"] for r in rows} == wanted
        doubled = await conn.fetchval(
            "select count(*) from (select appointment_id from event_history where event_type = 'SlotBooked'"
            " and subject = any($1::text[]) group by appointment_id having count(*) > 1) d",
            sorted(diaries),
        )
        assert doubled == 0
    finally:
        await conn.close()
