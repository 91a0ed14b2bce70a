"""The booking write path end to end: POST a booking to the running service, until its event is on Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer

from bench import proctree
from bench.arrivals import Arrivals
from bench.client import Client
from bench.figures import Latency, Row
from bench.load import Meter, drive
from bench.session import Session
from bench.workers import worker_pids
from bench.workload import PlannedSlot

# After the last 201, how long the relay may take before the missing records are given up on.
ON_KAFKA_SECONDS = 60.0


@dataclass(frozen=True)
class PathKeys:
    """The report's keys and labels for one measurement of the path (empty store, or preloaded)."""

    name: str
    label: str
    http: str
    to_kafka: str
    end_to_end: str


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
    service_processes: int = 0
    workers: int = 0


async def measure_path(
    session: Session,
    *,
    bootstrap: str,
    topic: str,
    warm: Sequence[tuple[PlannedSlot, dict[str, Any]]],
    measured: Sequence[tuple[PlannedSlot, dict[str, Any]]],
    concurrency: int,
    meter: Meter,
    keys: PathKeys,
) -> PathResult:
    """Warm the service up, then POST ``measured`` and wait for each booking's record on ``topic``."""
    # No group: the consumer takes every partition, from the start of this stage's fresh topic.
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
        result = await _measure(session.client, arrivals, warm, measured, concurrency, meter, keys)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await consumer.stop()
    # How many processes serve: a supervisor and its workers, or one process.
    result.service_processes = len(proctree.tree(session.process.pid))
    result.workers = len(worker_pids(session.process.pid))
    return result


async def _measure(
    client: Client,
    arrivals: Arrivals,
    warm: Sequence[tuple[PlannedSlot, dict[str, Any]]],
    measured: Sequence[tuple[PlannedSlot, dict[str, Any]]],
    concurrency: int,
    meter: Meter,
    keys: PathKeys,
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
        key=keys.http,
        label=f"{keys.label} POST→201",
        count=len(posted),
        wall_seconds=max(p.answered for p in posted) - start.wall,
        latency=Latency.of([p.answered - p.started for p in posted]),
    )
    rows = [http]
    if landed:
        on_kafka = [arrivals.at[p.appointment_id] for p in landed]
        rows += [
            Row(
                key=keys.to_kafka,
                label=f"{keys.label} 201→Kafka",
                count=len(landed),
                wall_seconds=None,
                # This loop may read the record before it gets round to the 201 it is already
                # owed; the record was on Kafka by then, so the wait after the 201 is zero.
                latency=Latency.of([max(0.0, t - p.answered) for t, p in zip(on_kafka, landed, strict=True)]),
            ),
            Row(
                key=keys.end_to_end,
                label=f"{keys.label} POST→Kafka",
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
