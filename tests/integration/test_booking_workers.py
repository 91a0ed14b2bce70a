"""Booking in two processes on one port: every booking answered, no slot doubled, each published once."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from services.common.db import drop_database
from services.common.relay import RELAY_LOCK_KEY
from services.common.shredding import KEYSTORE_DATABASE
from tests.integration.test_first_flow import booking_form
from tests.support.kafka_reader import header, read_topic
from tests.support.services import (
    ServiceProcess,
    auth,
    child_pids,
    seed_county,
    service,
    wait_for_capacity,
    wait_for_workers,
    worker_pids,
)

pytestmark = pytest.mark.integration
WORKERS = "2"
STATIONS = ("stevenage", "watford", "st-albans", "hitchin")
FIRST_DAY, LAST_DAY = "2027-07-05", "2027-07-09"  # days no other test books
SLOTS = 60
CONTESTED = 10  # of those slots, each sought by RACERS call takers at once
RACERS = 4
IN_FLIGHT = 16
START_SECONDS = 120  # two workers join their consumer groups one after the other, on shared cores


async def drop_databases(settings: Settings, suffix: str) -> None:
    """Drop the databases a booking service made under ``suffix``."""
    for name in ("booking", KEYSTORE_DATABASE):
        await drop_database(settings.database_url(name).removesuffix(settings.db_suffix) + suffix)


@pytest.fixture(scope="module")
async def seeded(
    run_id: str,
    test_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],  # the roster is on Kafka
) -> AsyncIterator[tuple[str, Path]]:
    """A booking database of its own with the county loaded; (database suffix, log folder)."""
    suffix, logs = f"_workers{run_id}", tmp_path_factory.mktemp("workers")
    # Seeded through one process first: a booking process reads the county when it starts.
    one = await service("booking", logs, APPOINTMENTS_DB_SUFFIX=suffix).start()
    try:
        await seed_county(one)
        # Stopped once it has read the roster, so the workers start with the roster's duties.
        await wait_for_capacity(one, STATIONS[0], LAST_DAY)
    finally:
        one.stop()
    yield suffix, logs
    await drop_databases(test_settings, suffix)


@pytest.fixture(scope="module")
async def two_workers(seeded: tuple[str, Path]) -> AsyncIterator[ServiceProcess]:
    """Booking started with APPOINTMENTS_BOOKING_WORKERS=2, both workers healthy."""
    suffix, logs = seeded
    booking = service("booking", logs, APPOINTMENTS_DB_SUFFIX=suffix, APPOINTMENTS_BOOKING_WORKERS=WORKERS)
    try:
        await booking.start(wait_seconds=START_SECONDS)
        await wait_for_workers(booking, 2)
        await wait_for_capacity(booking, STATIONS[0], LAST_DAY)
        yield booking
    finally:
        await put_down(booking)


async def put_down(svc: ServiceProcess) -> None:
    """Stop a service as `make down` does, then SIGKILL any worker that outlived its supervisor."""
    workers = worker_pids(svc) if svc.process is not None else set()
    svc.stop()
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    await all_gone(workers)


async def free_slots(client: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    """(station, day, London start) of free slots on this test's days."""
    found: list[tuple[str, str, str]] = []
    for station in STATIONS:
        response = await client.get(f"/stations/{station}/free-slots?from={FIRST_DAY}&to={LAST_DAY}")
        assert response.status_code == 200, response.text
        for slot in response.json():
            utc = slot["starts_at"]  # British Summer Time in July: the London hour is one more
            found.append((station, utc[:10], f"{int(utc[11:13]) + 1:02d}:00"))
    return found


async def book_all(booking: ServiceProcess) -> list[tuple[tuple[str, str, str], httpx.Response]]:
    """Every slot once and the contested ones by several racers, all at once; (slot, response)."""
    # No keep-alive: each request is a new connection, taken by whichever worker accepts it.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=booking.url, headers=auth(Role.CALL_TAKER), timeout=60, limits=limits
    ) as client:
        slots = (await free_slots(client))[:SLOTS]
        assert len(slots) == SLOTS
        wanted = slots + [slot for slot in slots[:CONTESTED] for _ in range(RACERS - 1)]
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def book(slot: tuple[str, str, str]) -> tuple[tuple[str, str, str], httpx.Response]:
            station, day, start = slot
            async with gate:
                form = booking_form(day, start)
                return slot, await client.post(f"/stations/{station}/appointments", json=form)

        return await asyncio.gather(*(book(slot) for slot in wanted))


async def booked_on_kafka(settings: Settings, appointment_ids: set[str]) -> list[Any]:
    """The SlotBooked records of booking.events, once every one of ``appointment_ids`` is there."""
    records: list[Any] = []
    for _ in range(30):
        records = await read_topic(settings.kafka_bootstrap, settings.topic("booking.events"), at_least=1)
        if appointment_ids <= {r.key.decode() for r in records}:
            break
        await asyncio.sleep(1)
    return [r for r in records if header(r, "ce_type") == "SlotBooked"]


async def test_two_workers_answer_every_booking_book_each_slot_once_and_publish_each_once(
    two_workers: ServiceProcess, test_settings: Settings
) -> None:
    workers = worker_pids(two_workers)

    answered = await book_all(two_workers)

    unexpected = [(r.status_code, r.text[:200]) for _, r in answered if r.status_code not in (201, 409)]
    assert not unexpected
    winners = collections.Counter(slot for slot, r in answered if r.status_code == 201)
    assert set(winners) == {slot for slot, _ in answered} and set(winners.values()) == {1}
    assert {int(r.headers["x-served-by"]) for _, r in answered} == workers
    booked = {r.json()["appointment_id"] for _, r in answered if r.status_code == 201}
    records = await booked_on_kafka(test_settings, booked)
    ours = collections.Counter(r.key.decode() for r in records if r.key.decode() in booked)
    assert ours == dict.fromkeys(booked, 1)
    diaries = {f"station:{station}:{day}" for station, day, _ in winners}
    # Every booking of these diary days, by anyone: each slot's start at most once per diary.
    starts = collections.Counter(
        (header(r, "ce_subject"), json.loads(r.value)["starts_at"])
        for r in records
        if header(r, "ce_subject") in diaries
    )
    assert set(starts.values()) == {1} and len(starts) == SLOTS


async def test_one_relay_holds_the_outbox_lock_whatever_the_workers(
    two_workers: ServiceProcess, seeded: tuple[str, Path], test_settings: Settings
) -> None:
    suffix, _ = seeded
    url = test_settings.database_url("booking").removesuffix(test_settings.db_suffix) + suffix
    conn = await asyncpg.connect(url)
    try:
        holders = await conn.fetchval(
            "select count(*) from pg_locks l join pg_database d on d.oid = l.database"
            " where d.datname = current_database() and l.locktype = 'advisory' and l.granted"
            " and l.classid = 0 and l.objid = $1 and l.objsubid = 1",
            RELAY_LOCK_KEY,
        )
    finally:
        await conn.close()
    assert len(worker_pids(two_workers)) == 2
    assert holders == 1


async def test_each_worker_writes_json_log_lines_with_its_own_pid(two_workers: ServiceProcess) -> None:
    lines = log_lines(two_workers)
    started = {line["pid"] for line in lines if line["event"] == "service started"}

    assert two_workers.process is not None
    assert started == worker_pids(two_workers)
    assert all(line["service"] == "booking" for line in lines)
    assert any(line["pid"] == two_workers.process.pid and line["event"] == "serving" for line in lines)


async def test_a_killed_worker_is_replaced_and_sigterm_then_stops_every_worker(
    run_id: str, tmp_path: Path, test_settings: Settings
) -> None:
    # A database of its own: no other booking process shares its locks.
    suffix = f"_workerslife{run_id}"
    env = {"APPOINTMENTS_DB_SUFFIX": suffix, "APPOINTMENTS_BOOKING_WORKERS": WORKERS}
    booking = service("booking", tmp_path, **env)
    try:
        await booking.start(wait_seconds=START_SECONDS)
        first = await wait_for_workers(booking, 2)
        killed = min(first)
        os.kill(killed, signal.SIGKILL)

        replaced = await wait_for_workers(booking, 2)
        assert booking.process is not None
        helpers = child_pids(booking.process.pid)  # the workers and multiprocessing's resource tracker
        booking.process.send_signal(signal.SIGTERM)
        # Room for uvicorn's 10 s of draining and the relay's 10 s, on a busy machine.
        exit_code = await asyncio.to_thread(booking.process.wait, 30)
    finally:
        await put_down(booking)  # nothing left to do once the test got as far as SIGTERM
        await drop_databases(test_settings, suffix)

    assert killed not in replaced and first - {killed} <= replaced
    assert exit_code == 0
    assert await all_gone(helpers)
    lines = log_lines(booking)
    finished = {line["pid"] for line in lines if line["event"] == "Application shutdown complete."}
    assert finished == replaced


def log_lines(svc: ServiceProcess) -> list[dict[str, Any]]:
    """The JSON lines of a service's log (several processes write to it)."""
    lines: list[dict[str, Any]] = []
    for text in svc.log_path.read_text().splitlines():
        try:
            lines.append(json.loads(text))
        except ValueError:
            continue
    return lines


async def all_gone(pids: set[int]) -> bool:
    """Whether every one of ``pids`` has ended, waiting a while for them to."""
    for _ in range(100):
        if not any(_running(pid) for pid in pids):
            return True
        await asyncio.sleep(0.1)
    return False


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
