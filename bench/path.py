"""The booking write path end to end: POST a booking to the real service, until its event is on Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.load import Meter, drive
from bench.report import PATH_END_TO_END, PATH_HTTP, PATH_TO_KAFKA, Latency, Row
from bench.workload import PlannedSlot
from services.common.config import PROJECT_ROOT
from services.common.eventstore import Outgoing
from services.common.reference import load_county

READY_SECONDS = 90.0
STOP_SECONDS = 20.0
# After the last 201, how long the relay may take before the missing records are given up on.
ON_KAFKA_SECONDS = 60.0
HTTP_TIMEOUT_SECONDS = 30.0
# How long the service's roster consumer may take to turn the run's duties into free slots.
OFFERED_SECONDS = 90.0
# The free-slots endpoint answers at most 62 days at a time.
OFFER_WINDOW_DAYS = 60


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def booking_service(env: Mapping[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python -m services.booking` with ``env`` added, its output to ``log_path``; stop it after."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.booking"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def wait_healthy(client: httpx.AsyncClient, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait until /health answers 200: database, Kafka, key store and wiring all up."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the booking service exited ({process.returncode}):\n{_tail(log_path)}")
        with contextlib.suppress(httpx.TransportError):
            if (await client.get("/health")).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the booking service was not healthy in {READY_SECONDS:.0f} s:\n{_tail(log_path)}"
            )
        await asyncio.sleep(0.2)


async def seed_county(client: httpx.AsyncClient, admin_token: str) -> None:
    """Load the county's reference data into the fresh service, as `appointments seed` does."""
    response = await client.put(
        "/reference/county",
        content=load_county().model_dump_json(),
        headers={"authorization": f"Bearer {admin_token}", "content-type": "application/json"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"the booking service refused the county: {response.status_code} {response.text}")


async def put_on_duty(bootstrap: str, topic: str, items: Sequence[Outgoing]) -> None:
    """Publish DutyAssigned records as the roster service's relay would, and wait for every ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        acks = [
            await producer.send(
                topic, i.envelope.kafka_value(), key=i.key.encode(), headers=i.envelope.kafka_headers()
            )
            for i in items
        ]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()


def windows(days: Sequence[date]) -> list[tuple[date, date]]:
    """The days as few from/to ranges as the free-slots endpoint allows."""
    spans: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if spans and (day - spans[-1][0]).days < OFFER_WINDOW_DAYS:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


async def offered(client: httpx.AsyncClient, plan: Sequence[PlannedSlot]) -> set[tuple[str, datetime]]:
    """Every (station, start) that GET /stations/{id}/free-slots offers over the plan's days."""
    days: dict[str, list[date]] = {}
    for slot in plan:
        days.setdefault(slot.station_id, []).append(slot.day)
    found: set[tuple[str, datetime]] = set()
    for station_id, station_days in days.items():
        for first, last in windows(station_days):
            span = {"from": first.isoformat(), "to": last.isoformat()}
            response = await client.get(f"/stations/{station_id}/free-slots", params=span)
            if response.status_code != 200:
                raise RuntimeError(f"free slots of {station_id}: {response.status_code} {response.text}")
            found |= {(station_id, datetime.fromisoformat(s["starts_at"])) for s in response.json()}
    return found


def not_offered(plan: Sequence[PlannedSlot], offer: set[tuple[str, datetime]]) -> list[PlannedSlot]:
    """The planned slots the service does not offer."""
    return [s for s in plan if (s.station_id, s.starts_at) not in offer]


async def wait_until_offered(
    client: httpx.AsyncClient, process: subprocess.Popen[bytes], plan: Sequence[PlannedSlot], log_path: Path
) -> None:
    """Wait until the service offers every planned slot (its roster consumer has the duties)."""
    deadline = time.monotonic() + OFFERED_SECONDS
    while True:
        missing = not_offered(plan, await offered(client, plan))
        if not missing:
            return
        if process.poll() is not None:
            raise RuntimeError(f"the booking service exited ({process.returncode}):\n{_tail(log_path)}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"after {OFFERED_SECONDS:.0f} s the service still does not offer {len(missing)} of the "
                f"{len(plan)} planned slots, e.g. {missing[0].stream_id} at {missing[0].starts_at:%H:%M}Z"
            )
        await asyncio.sleep(0.5)


@dataclass
class Arrivals:
    """When each booking's record reached this process from the booking.events topic."""

    consumer: Any
    at: dict[str, float] = field(default_factory=dict)
    value_bytes: list[int] = field(default_factory=list)
    header_bytes: list[int] = field(default_factory=list)
    _waiting: set[str] = field(default_factory=set)
    _all_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Read the topic until cancelled, stamping each appointment id on first sight."""
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    key = record.key.decode()
                    if key not in self.at:
                        self.at[key] = now
                        self.value_bytes.append(len(record.value))
                        self.header_bytes.append(sum(len(k) + len(v) for k, v in record.headers or ()))
                    self._waiting.discard(key)
            if not self._waiting:
                self._all_in.set()

    def expect(self, appointment_id: str) -> None:
        """Note an appointment id whose record is still to come (unless it came already)."""
        if appointment_id not in self.at:
            self._waiting.add(appointment_id)
            self._all_in.clear()

    async def wait(self, seconds: float) -> None:
        """Until every expected record arrived, or ``seconds`` passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_in.wait(), seconds)


@dataclass
class _Posted:
    started: float
    answered: float
    appointment_id: str


@dataclass
class PathResult:
    """The path's rows, and what went wrong or was notable on the way."""

    rows: list[Row]
    failures: dict[str, int]
    missing_on_kafka: int
    value_bytes: float | None
    header_bytes: float | None


async def booking_path(
    *,
    env: Mapping[str, str],
    port: int,
    token: str,
    admin_token: str,
    topic: str,
    bootstrap: str,
    warm: Sequence[tuple[PlannedSlot, dict[str, Any]]],
    measured: Sequence[tuple[PlannedSlot, dict[str, Any]]],
    concurrency: int,
    meter_for: Callable[[int], Meter],
    log_path: Path,
) -> PathResult:
    """Start and seed the service, warm it up, then POST ``measured`` and wait for each record on Kafka."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"authorization": f"Bearer {token}"},
        limits=limits,
        timeout=HTTP_TIMEOUT_SECONDS,
    ) as client:
        with booking_service(env, log_path) as process:
            await wait_healthy(client, process, log_path)
            await seed_county(client, admin_token)
            await wait_until_offered(client, process, [s for s, _ in (*warm, *measured)], log_path)
            # No group: the consumer takes every partition, from the start of this run's fresh topic.
            consumer = AIOKafkaConsumer(
                topic,
                bootstrap_servers=bootstrap,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=100,
            )
            await consumer.start()
            arrivals = Arrivals(consumer)
            reader = asyncio.create_task(arrivals.run())
            try:
                return await _measure(client, arrivals, warm, measured, concurrency, meter_for(process.pid))
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                await consumer.stop()


async def _measure(
    client: httpx.AsyncClient,
    arrivals: Arrivals,
    warm: Sequence[tuple[PlannedSlot, dict[str, Any]]],
    measured: Sequence[tuple[PlannedSlot, dict[str, Any]]],
    concurrency: int,
    meter: Meter,
) -> PathResult:
    posted: list[_Posted] = []
    failures: dict[str, int] = {}

    async def book(item: tuple[PlannedSlot, dict[str, Any]]) -> None:
        slot, form = item
        started = time.perf_counter()
        response = await client.post(f"/stations/{slot.station_id}/appointments", json=form)
        answered = time.perf_counter()
        if response.status_code != 201:
            reason = f"{response.status_code}: {response.text[:160]}"
            failures[reason] = failures.get(reason, 0) + 1
            return
        appointment_id = response.json()["appointment_id"]
        arrivals.expect(appointment_id)
        posted.append(_Posted(started, answered, appointment_id))

    await drive(warm, concurrency, book)
    await arrivals.wait(ON_KAFKA_SECONDS)
    warm_failures = sum(failures.values())
    posted.clear()
    failures.clear()
    start = meter.sample()
    await drive(measured, concurrency, book)
    await arrivals.wait(ON_KAFKA_SECONDS)
    usage = Meter.between(start, meter.sample())
    if warm_failures:
        failures["(warm-up failures)"] = warm_failures
    if not posted:
        raise RuntimeError(f"no booking succeeded: {failures}")
    landed = [p for p in posted if p.appointment_id in arrivals.at]
    http = Row(
        key=PATH_HTTP,
        label="path POST→201",
        count=len(posted),
        wall_seconds=max(p.answered for p in posted) - start.wall,
        latency=Latency.of([p.answered - p.started for p in posted]),
    )
    rows = [http]
    if landed:
        on_kafka = [arrivals.at[p.appointment_id] for p in landed]
        rows += [
            Row(
                key=PATH_TO_KAFKA,
                label="path 201→Kafka",
                count=len(landed),
                wall_seconds=None,
                # This loop may read the record before it gets round to the 201 it is already
                # owed; the record was on Kafka by then, so the wait after the 201 is zero.
                latency=Latency.of([max(0.0, t - p.answered) for t, p in zip(on_kafka, landed, strict=True)]),
            ),
            Row(
                key=PATH_END_TO_END,
                label="path POST→Kafka",
                count=len(landed),
                wall_seconds=max(on_kafka) - start.wall,
                latency=Latency.of([t - p.started for t, p in zip(on_kafka, landed, strict=True)]),
                client_cpu=usage.client_cpu,
                service_cpu=usage.service_cpu,
                server_cpu=usage.server_cpu,
            ),
        ]
    return PathResult(
        rows=rows,
        failures=failures,
        missing_on_kafka=len(posted) - len(landed),
        value_bytes=_mean(arrivals.value_bytes),
        header_bytes=_mean(arrivals.header_bytes),
    )


def _mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None
