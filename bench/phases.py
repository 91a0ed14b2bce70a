"""The phases on the run's main stage: A raw produce, B raw append, the booking path, free slots."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.baselines import Record, raw_append, raw_produce
from bench.figures import PATH_END_TO_END, PATH_HTTP, PATH_TO_KAFKA, Row
from bench.freeslots import free_slots
from bench.options import Options
from bench.path import PathKeys, PathResult, measure_path
from bench.plan import Plan
from bench.session import Session, booking_session
from bench.stage import Run, Stage
from schemas.topics import BOOKING_EVENTS, TOPICS, TopicSpec
from services.common.db import COMMON_MIGRATIONS, open_pool
from services.common.logging import get_logger

log = get_logger(__name__)

RAW_TOPIC = "bench.raw-produce"
# Baseline A's topic is shaped like booking.events, so partitions are no advantage either way.
BOOKING_SPEC = next(t for t in TOPICS if t.name == BOOKING_EVENTS)
RAW_SPEC = TopicSpec(RAW_TOPIC, BOOKING_SPEC.partitions, keep_forever=False)
PATH_KEYS = PathKeys("path", "path", PATH_HTTP, PATH_TO_KAFKA, PATH_END_TO_END)


@dataclass
class Outcome:
    """What phases found: their rows and the parameters that explain them."""

    rows: list[Row] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    async def attempt(self, phase: str, work: Callable[[], Awaitable[Outcome]]) -> None:
        """Run one phase into this outcome, timed; a phase that fails is noted, and the others still run."""
        started = time.perf_counter()
        try:
            found = await work()
        except Exception as exc:
            log.warning("bench phase failed", phase=phase, error=f"{type(exc).__name__}: {exc}"[:2000])
            found = Outcome(parameters={"failed_phases": {phase: f"{type(exc).__name__}: {exc}"[:600]}})
        found.parameters.setdefault("phase_seconds", {})[phase] = time.perf_counter() - started
        self.rows += found.rows
        # Phases nest (path and free slots inside booking): their notes add up, never replace.
        merged = {
            name: {**self.parameters.get(name, {}), **found.parameters.get(name, {})}
            for name in ("failed_phases", "phase_seconds")
        }
        self.parameters |= found.parameters
        self.parameters |= {name: value for name, value in merged.items() if value}


async def produce(run: Run, stage: Stage, plan: Plan, options: Options) -> Outcome:
    """Baseline A on the stage's raw topic."""
    records = [Record.of(e) for e in plan.events]
    w = options.warmup
    topic = stage.settings.topic(RAW_TOPIC)
    row = await raw_produce(
        run.kafka_bootstrap, topic, records[:w], records[w:], options.concurrency, run.meter()
    )
    value_bytes = sum(len(r.value) for r in records) / len(records)
    header_bytes = sum(sum(len(k) + len(v) for k, v in r.headers) for r in records) / len(records)
    return Outcome([row], {"baseline_value_bytes": value_bytes, "baseline_header_bytes": header_bytes})


async def append(run: Run, stage: Stage, plan: Plan, options: Options) -> Outcome:
    """Baseline B in a store of its own, so the path's slots stay free."""
    url = stage.settings.database_url("bench_store")
    pool = await open_pool(url, [COMMON_MIGRATIONS], max_size=options.concurrency)
    try:
        w = options.warmup
        events = plan.events
        row, conflicts = await raw_append(pool, events[:w], events[w:], options.concurrency, run.meter())
    finally:
        await pool.close()
    return Outcome([row], {"store_conflicts_retried": conflicts})


@contextlib.asynccontextmanager
async def running_booking(
    run: Run, stage: Stage, plan: Plan, options: Options, log_path: Path, *, path: bool = True
) -> AsyncIterator[Session]:
    """The stage's booking service, offering the plan's slots (``path``) and the free-slots days."""
    offers = [*(plan.slots if path else []), *plan.free_slot_days]
    async with booking_session(
        run, stage, on_duty=plan.on_duty(run.now), offers=offers, concurrency=options.concurrency,
        log_path=log_path,
    ) as session:  # fmt: skip
        yield session


async def path(
    run: Run, stage: Stage, session: Session, plan: Plan, options: Options, keys: PathKeys
) -> Outcome:
    """The booking path on a running service, its rows under ``keys``."""
    result = await measure_path(
        session,
        bootstrap=run.kafka_bootstrap,
        topic=stage.settings.topic(BOOKING_EVENTS),
        warm=plan.warm,
        measured=plan.measured,
        concurrency=options.concurrency,
        meter=run.meter(session.process.pid),
        keys=keys,
    )
    return Outcome(result.rows, path_parameters(result, f"{keys.name}_"))


def path_parameters(result: PathResult, prefix: str) -> dict[str, Any]:
    """What a path measurement noted beside its rows, each name starting with ``prefix``."""
    return {
        f"{prefix}value_bytes": result.value_bytes,
        f"{prefix}header_bytes": result.header_bytes,
        f"{prefix}failures": result.failures,
        f"{prefix}missing_on_kafka": result.missing_on_kafka,
        f"{prefix}service_processes": result.service_processes,
        f"{prefix}workers": result.workers,
    }


async def free_slots_of(session: Session, plan: Plan, options: Options, run: Run) -> Outcome:
    """One day's and 28 days' free slots at the plan's first station, on the running service."""
    station, first = plan.free_slot_station
    rows, offered = await free_slots(
        session.client, station, first, options.free_slot_requests, options.free_slot_warmup,
        run.meter(session.process.pid),
    )  # fmt: skip
    found = {"free_slots_station": station, "free_slots_from": first, "free_slots_offered": offered}
    return Outcome(rows, found)


async def booking(run: Run, stage: Stage, plan: Plan, options: Options, log_dir: Path) -> Outcome:
    """The path, then free slots, on one booking service started for the stage."""
    found = Outcome()
    with_path = options.runs("path")
    async with running_booking(run, stage, plan, options, log_dir / "booking.log", path=with_path) as session:
        if with_path:
            await found.attempt("path", lambda: path(run, stage, session, plan, options, PATH_KEYS))
        if options.runs("free-slots"):
            await found.attempt("free-slots", lambda: free_slots_of(session, plan, options, run))
    return found
