"""One chaos run: its own servers and services, the load, the faults in turn, the checks, the report."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.workload import Duty, duties, plan_slots
from chaos import faults, load
from chaos.checks import Check, check_all
from chaos.faults import Injected, System
from chaos.stage import Servers, start_servers, stop_servers
from services.common.config import settings
from tests.support.services import seed_county, service, wait_for_capacity, wait_for_workers

console = Console(width=150)
IN_FLIGHT = 8
BOOKING_WORKERS = 2
PROJECTIONS_INSTANCES = 2


# What names another stage's servers, topics or databases (a test session sets these): a run's are
# its own, and its services and clients must not inherit a topic prefix its cluster never made.
FOREIGN_SETTINGS = (
    "APPOINTMENTS_TOPIC_PREFIX", "APPOINTMENTS_DB_SUFFIX", "APPOINTMENTS_KAFKA_BOOTSTRAP",
    "APPOINTMENTS_PG_URL", "APPOINTMENTS_KAFKA_BROKERS",
)  # fmt: skip


def _own_stage_only() -> None:
    for name in FOREIGN_SETTINGS:
        os.environ.pop(name, None)
    settings.cache_clear()


def _clients_log_to(path: Path) -> None:
    """aiokafka's and asyncpg's complaints while a broker or the database is down go to the evidence."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("aiokafka", "asyncpg", "faststream"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False


def _second_officers(on_duty: dict[str, Duty]) -> list[Duty]:
    """A second officer beside each planned day's first: a withdrawal then has someone to reassign to."""
    return [
        Duty(f"{d.duty_id}-b", f"{d.officer_id}-b", d.station_id, d.district_id, d.starts_at, d.ends_at)
        for d in on_duty.values()
    ]


def _system(servers: Servers, run_id: str, logs: Path) -> System:
    env = {
        "APPOINTMENTS_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        "APPOINTMENTS_PG_URL": servers.pg_url,
        "APPOINTMENTS_DB_SUFFIX": f"_chaos{run_id}",
        "APPOINTMENTS_TOPIC_PREFIX": "",
    }
    booking = service("booking", logs, APPOINTMENTS_BOOKING_WORKERS=str(BOOKING_WORKERS), **env)
    projections = [service("projections", logs, **env) for _ in range(PROJECTIONS_INSTANCES)]
    return System(servers, booking, projections, BOOKING_WORKERS)


async def _start(system: System) -> None:
    await system.booking.start(180)
    await wait_for_workers(system.booking, system.booking_workers)
    for instance in system.projections:
        await instance.start(180)


def _stop(system: System | None) -> None:
    if system is None:
        return
    for svc in (system.booking, *system.projections):
        svc.stop()


async def run(bookings: int, *, keep: bool, seed: int | None = None, summary: Path | None = None) -> int:
    """The whole run; returns the exit status (0: every check held)."""
    _own_stage_only()
    run_id = uuid.uuid4().hex[:8]
    folder = settings().state_dir.resolve() / "chaos" / run_id
    logs = folder / "logs"
    logs.mkdir(parents=True)
    _clients_log_to(logs / "clients.log")
    rng = random.Random(seed)
    console.print(f"Chaos run {run_id}: {bookings} bookings, evidence in {folder}")
    started_at = time.monotonic()
    servers = await asyncio.to_thread(start_servers, folder)
    system: System | None = None
    answers = load.Answers()
    injected: list[Injected] = []
    checks: list[Check] = []
    try:
        # Known before anything starts, so whatever did start is stopped however the run ends.
        system = _system(servers, run_id, logs)
        service_env = {**system.booking.env}
        await _start(system)
        cfg = servers.settings(run_id)
        await seed_county(system.booking)
        now = datetime.now(UTC)
        requests = max(10, bookings // 10)
        plan = plan_slots(bookings + requests, now)
        http_slots, request_slots = plan[:bookings], plan[bookings:]
        first_officers = duties(plan, run_id)
        await load.put_on_duty(cfg, [*first_officers.values(), *_second_officers(first_officers)])
        for slot in (plan[0], plan[-1]):
            await wait_for_capacity(system.booking, slot.station_id, slot.day.isoformat(), 120)
        console.print("Servers and services up; load and faults begin")

        load_started = time.monotonic()
        spread = max(20.0, bookings / 40)
        withdrawn = rng.sample(list(first_officers.values()), k=min(5, len(first_officers)))
        booking_task = asyncio.create_task(
            load.book_all(
                system.booking.url, http_slots, run_id, answers, in_flight=IN_FLIGHT, cancel_every=20
            )
        )
        side = asyncio.gather(
            load.send_requests(cfg, request_slots, run_id, answers, spread_seconds=spread),
            load.withdraw(cfg, withdrawn, answers, spread_seconds=spread),
        )
        for n, fault in enumerate(faults.FAULTS):
            # At a random moment of its share of the load, each after the previous one healed.
            share = bookings / (len(faults.FAULTS) + 1)
            target = int(share * (n + 1) + rng.uniform(-share / 3, share / 3))
            # The load only counts its answers; it signals nothing to wait on.
            while len(answers.acknowledged) < target and not booking_task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            hit = await faults.inject(system, fault, load_started)
            injected.append(hit)
            console.print(
                f"  {hit.fault}: {hit.target}, healthy again after {hit.healthy_after_seconds:.1f} s"
            )
        await booking_task
        await side
        console.print("Load done; checking")
        checks = await check_all(cfg, answers, service_env)
    finally:
        _stop(system)
        await asyncio.to_thread(stop_servers, servers, remove=not keep)
    report(run_id, [folder, *([summary] if summary else [])], bookings, answers, injected, checks,
           time.monotonic() - started_at)  # fmt: skip
    return 0 if checks and all(c.passed for c in checks) else 1


def report(
    run_id: str, folders: list[Path], bookings: int, answers: load.Answers, injected: list[Injected],
    checks: list[Check], seconds: float,
) -> None:  # fmt: skip
    """The two tables (faults, checks) on the terminal, and everything in each place's summary.json."""
    faults_table = Table(title=f"Faults injected (run {run_id})")
    for column in ("fault", "target", "at (s into the load)", "healthy again after (s)"):
        faults_table.add_column(column)
    for hit in injected:
        faults_table.add_row(
            hit.fault, hit.target, f"{hit.at_seconds:.1f}", f"{hit.healthy_after_seconds:.1f}"
        )
    console.print(faults_table)
    checks_table = Table(title="Counts compared")
    for column in ("check", "expected", "found", "", "detail"):
        checks_table.add_column(column)
    for c in checks:
        checks_table.add_row(c.name, str(c.expected), str(c.found), "PASS" if c.passed else "FAIL", c.detail)
    console.print(checks_table)
    console.print(
        f"{bookings} bookings asked, {len(answers.acknowledged)} acknowledged,"
        f" {len(answers.refused)} refused, {len(answers.gave_up)} given up after retries"
        f" ({answers.retries} retries);"
        f" {len(answers.cancelled)} cancelled; {len(answers.requests_sent)} control-room requests"
        f" (+{answers.duplicates_sent} sent twice); {answers.withdrawals} withdrawals;"
        f" {seconds:.0f} s in all."
    )
    summary = {
        "run_id": run_id,
        "bookings": bookings,
        "seconds": seconds,
        "answers": {
            "acknowledged": len(answers.acknowledged), "refused": answers.refused, "gave_up": answers.gave_up,
            "retries": answers.retries, "cancelled": len(answers.cancelled),
            "requests": len(answers.requests_sent), "duplicates_sent": answers.duplicates_sent,
            "withdrawals": answers.withdrawals,
        },
        "faults": [asdict(hit) for hit in injected],
        "checks": [{**asdict(c), "passed": c.passed} for c in checks],
    }  # fmt: skip
    written = json.dumps(summary, indent=2)
    for place in folders:
        (place if place.suffix == ".json" else place / "summary.json").write_text(written)
