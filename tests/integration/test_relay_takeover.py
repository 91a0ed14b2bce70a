"""Two booking instances on one database: one relay at a time, and the other takes over when it dies.

Instance A holds the outbox relay's advisory lock; instance B, started after it, waits its turn.
A is SIGKILLed straight after a burst of bookings; B takes the lock, reconciles what A left, and
publishes its own bookings: every booking either instance acknowledged is on booking.events
exactly once, and the lock has one holder again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from services.common.relay import RELAY_LOCK_KEY
from tests.integration.test_booking_workers import booked_on_kafka, drop_databases, put_down
from tests.integration.test_first_flow import booking_form
from tests.support.kafka_reader import header
from tests.support.services import ServiceProcess, auth, seed_county, service, wait_for_capacity

pytestmark = pytest.mark.integration
STATIONS = ("stevenage", "watford", "hitchin", "hemel-hempstead", "hatfield", "hertford", "rickmansworth")
DAY = "2027-07-20"  # a day no other test books
PER_INSTANCE = 9

HOLDERS = (
    "select count(*) from pg_locks l join pg_database d on d.oid = l.database"
    " where d.datname = current_database() and l.locktype = 'advisory' and l.granted"
    " and l.classid = 0 and l.objid = $1 and l.objsubid = 1"
)


async def relay_holders(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        held: int = await conn.fetchval(HOLDERS, RELAY_LOCK_KEY)
        return held
    finally:
        await conn.close()


async def until_one_holder(url: str, wait_seconds: float = 60) -> float:
    """Seconds until the relay lock has a holder."""
    started = time.monotonic()
    while await relay_holders(url) != 1:
        if time.monotonic() - started > wait_seconds:
            raise TimeoutError("no relay took the lock")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture
async def two_instances(
    run_id: str,
    test_settings: Settings,
    tmp_path: Path,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],  # the roster is on Kafka
) -> AsyncIterator[tuple[ServiceProcess, ServiceProcess, str]]:
    """Booking A (holding the relay lock) and booking B, each its own process, on one database."""
    suffix = f"_takeover{run_id}"
    url = test_settings.database_url("booking").removesuffix(test_settings.db_suffix) + suffix
    env = {"APPOINTMENTS_DB_SUFFIX": suffix, "APPOINTMENTS_BOOKING_WORKERS": "1"}
    first = service("booking", tmp_path, **env)
    second = service("booking", tmp_path, **env)
    try:
        await first.start()
        await seed_county(first)
        await wait_for_capacity(first, STATIONS[0], DAY)
        await until_one_holder(url)
        await second.start()
        await wait_for_capacity(second, STATIONS[0], DAY)
        yield first, second, url
    finally:
        for instance in (first, second):
            if instance.process is not None:
                await put_down(instance)
        await drop_databases(test_settings, suffix)


async def book_burst(booking: ServiceProcess, slots: list[tuple[str, str]]) -> list[str]:
    """Book each slot at once; the ids of the bookings answered 201."""
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER), timeout=60) as client:
        responses = await asyncio.gather(
            *(client.post(f"/stations/{s}/appointments", json=booking_form(DAY, start)) for s, start in slots)
        )
    return [r.json()["appointment_id"] for r in responses if r.status_code == 201]


async def free_slots(booking: ServiceProcess) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        for station in STATIONS:
            response = await client.get(f"/stations/{station}/free-slots?from={DAY}&to={DAY}")
            assert response.status_code == 200, response.text
            # British Summer Time in July: the London hour is one more than UTC's.
            found += [(station, f"{int(s['starts_at'][11:13]) + 1:02d}:00") for s in response.json()]
    return found


async def test_the_second_instance_takes_the_relay_over_and_nothing_acknowledged_is_lost_or_doubled(
    two_instances: tuple[ServiceProcess, ServiceProcess, str], test_settings: Settings
) -> None:
    first, second, url = two_instances
    slots = await free_slots(first)
    assert len(slots) >= 2 * PER_INSTANCE, "not enough free slots on the test's day"

    by_first = await book_burst(first, slots[:PER_INSTANCE])
    assert first.process is not None
    first.process.kill()  # SIGKILL, straight after its 201s: its relay may not have sent them all
    first.process.wait()
    took_over = await until_one_holder(url)
    by_second = await book_burst(second, slots[PER_INSTANCE : 2 * PER_INSTANCE])

    acknowledged = set(by_first) | set(by_second)
    assert len(by_first) == len(by_second) == PER_INSTANCE
    records = await booked_on_kafka(test_settings, acknowledged)
    published = Counter(r.key.decode() for r in records if (header(r, "ce_subject") or "").endswith(DAY))
    assert {a: published[a] for a in acknowledged} == dict.fromkeys(acknowledged, 1)
    assert await relay_holders(url) == 1
    print(f"relay taken over {took_over:.1f} s after the holder's death")
