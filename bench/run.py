"""One benchmark run: servers, a private topic prefix and databases, the three phases, the report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import secrets
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console

from bench import cpu
from bench.baselines import PRODUCE_WARM_SECONDS, Record, raw_append, raw_produce
from bench.load import Meter
from bench.path import booking_path, free_port, put_on_duty
from bench.report import Report, render
from bench.workload import booking_form, duties, duty_assigned, plan_slots, slot_booked
from schemas.topics import BOOKING_EVENTS, ROSTER_EVENTS, TOPICS, TopicSpec, topic_configs
from services.common.auth import Role, issue_token
from services.common.config import Settings, settings
from services.common.db import COMMON_MIGRATIONS, drop_database, open_pool
from services.common.logging import configure_logging
from services.common.shredding import KEYSTORE_DATABASE

DEFAULT_COUNT = 1000
DEFAULT_CONCURRENCY = 8
RAW_TOPIC = "bench.raw-produce"
TOPIC_READY_SECONDS = 30.0
REPORT_WIDTH = 120
# Baseline A's topic is shaped like booking.events, so partitions are no advantage either way.
BOOKING_SPEC = next(t for t in TOPICS if t.name == BOOKING_EVENTS)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of `python -m bench`."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the booking write path against a raw Kafka produce and a raw store append.",
    )
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="bookings per phase (default 1000)")
    parser.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY,
        help="workers in flight in every phase (default 8)",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", type=int, default=None, help="warm-up bookings per phase (default count/10, at least 20)"
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="the JSON file (default .state/bench/latest.json)"
    )
    args = parser.parse_args(argv)
    if args.count < 1 or args.concurrency < 1:
        parser.error("--count and --concurrency must be at least 1")
    if args.warmup is None:
        args.warmup = max(20, args.count // 10)
    return args


async def _topics(bootstrap: str, specs: Sequence[TopicSpec], prefix: str, create: bool) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {f"{prefix}{t.name}": t.partitions for t in specs}
        names = list(partitions)
        if not create:
            await admin.delete_topics(names)
            return
        await admin.create_topics(
            [NewTopic(f"{prefix}{t.name}", t.partitions, 1, topic_configs=topic_configs(t)) for t in specs]
        )
        # Producing before every partition has its leader only earns NotLeaderForPartition retries.
        deadline = time.monotonic() + TOPIC_READY_SECONDS
        while not _all_led(await admin.describe_topics(names), partitions):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bench topics have no leaders after {TOPIC_READY_SECONDS:.0f} s")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def _all_led(described: Sequence[dict[str, Any]], partitions: dict[str, int]) -> bool:
    led = {
        t["topic"]: sum(1 for p in t["partitions"] if p["error_code"] == 0 and p["leader"] >= 0)
        for t in described
        if t["error_code"] == 0
    }
    return all(led.get(name) == count for name, count in partitions.items())


def _local_servers(kafka_bootstrap: str, pg_url: str) -> cpu.Servers:
    kafka_port = int(kafka_bootstrap.split(",")[0].rpartition(":")[2])
    pg_port = urlsplit(pg_url).port or 5432
    return cpu.Servers(cpu.listener_pid(kafka_port), cpu.listener_pid(pg_port))


async def run(kafka_bootstrap: str, pg_url: str, count: int, concurrency: int, warmup: int) -> Report:
    """Every phase against the given servers, in topics and databases of this run only."""
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench-{run_id}."
    suffix = f"_bench{run_id}"
    secret = secrets.token_urlsafe(32)
    cfg = Settings(kafka_bootstrap=kafka_bootstrap, pg_url=pg_url, db_suffix=suffix, topic_prefix=prefix)
    servers = _local_servers(kafka_bootstrap, pg_url)
    now = datetime.now(UTC)

    # Every phase books the same slots: the baselines in stores of their own, so the path's stay free.
    plan = plan_slots(warmup + count, now)
    forms = [booking_form(slot, n, run_id) for n, slot in enumerate(plan)]
    roster = duties(plan, run_id)
    events = [
        await slot_booked(slot, form, secret, now, roster[slot.stream_id].on_duty())
        for slot, form in zip(plan, forms, strict=True)
    ]
    records = [Record.of(e) for e in events]

    specs = [*TOPICS, TopicSpec(RAW_TOPIC, BOOKING_SPEC.partitions, keep_forever=False)]
    store_url = cfg.database_url("bench_store")
    try:
        await _topics(kafka_bootstrap, specs, prefix, create=True)
        produce = await raw_produce(
            kafka_bootstrap, f"{prefix}{RAW_TOPIC}", records[:warmup], records[warmup:], concurrency,
            Meter(servers),
        )  # fmt: skip
        pool = await open_pool(store_url, [COMMON_MIGRATIONS], max_size=concurrency)
        try:
            store, conflicts = await raw_append(
                pool, events[:warmup], events[warmup:], concurrency, Meter(servers)
            )
        finally:
            await pool.close()
        env = {
            "APPOINTMENTS_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "APPOINTMENTS_PG_URL": pg_url,
            "APPOINTMENTS_TOPIC_PREFIX": prefix,
            "APPOINTMENTS_DB_SUFFIX": suffix,
            "APPOINTMENTS_TOKEN_SECRET": secret,
            "APPOINTMENTS_BOOKING_PORT": str(port := free_port()),
            # The forms use Ofcom's drama numbers, which only a non-production service accepts.
            "APPOINTMENTS_ENVIRONMENT": "development",
        }
        # Before the service starts: its roster consumer reads them from the topic's beginning.
        on_duty = [duty_assigned(d, now) for d in roster.values()]
        await put_on_duty(kafka_bootstrap, cfg.topic(ROSTER_EVENTS), on_duty)
        pairs = list(zip(plan, forms, strict=True))
        path = await booking_path(
            env=env,
            port=port,
            token=issue_token(Role.CALL_TAKER, "bench", secret),
            admin_token=issue_token(Role.ADMIN, "bench", secret),
            topic=cfg.topic(BOOKING_EVENTS),
            bootstrap=kafka_bootstrap,
            warm=pairs[:warmup],
            measured=pairs[warmup:],
            concurrency=concurrency,
            meter_for=lambda pid: Meter(servers, pid),
            log_path=settings().state_dir / "bench" / "booking.log",
        )
    finally:
        with contextlib.suppress(Exception):
            await _topics(kafka_bootstrap, specs, prefix, create=False)
        for name in ("bench_store", "booking", KEYSTORE_DATABASE):
            with contextlib.suppress(Exception):
                await drop_database(cfg.database_url(name))

    value_bytes = sum(len(r.value) for r in records) / len(records)
    header_bytes = sum(sum(len(k) + len(v) for k, v in r.headers) for r in records) / len(records)
    report = Report(
        rows=[produce, store, *path.rows],
        parameters={
            "count": count,
            "concurrency": concurrency,
            "warmup": warmup,
            "run_id": run_id,
            "started_at": now.isoformat(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "kafka_bootstrap": kafka_bootstrap,
            "baseline_value_bytes": value_bytes,
            "baseline_header_bytes": header_bytes,
            "path_value_bytes": path.value_bytes,
            "path_header_bytes": path.header_bytes,
            "store_conflicts_retried": conflicts,
            "path_failures": path.failures,
            "path_missing_on_kafka": path.missing_on_kafka,
            "servers_cpu_measured": servers.kafka_pid is not None and servers.postgres_pid is not None,
        },
    )
    report.notes = notes(report)
    return report


def _bytes(value: Any) -> str:
    return "?" if value is None else f"{value:,.0f} B"


def notes(report: Report) -> list[str]:
    """What each row measured, in words, for the table's caption."""
    p = report.parameters
    c = p["concurrency"]
    lines = [
        f"Concurrency {c} everywhere: {c} workers, each awaiting its call (send_and_wait, a committed "
        f"transaction, a 201) before taking the next. Warm-up: {p['warmup']} of each first; A repeats "
        f"its warm-up for {PRODUCE_WARM_SECONDS:.0f} s, so a freshly started broker is past its JIT.",
        f"A: AIOKafkaProducer(enable_idempotence=True, acks='all'), default linger, send_and_wait to a "
        f"{BOOKING_SPEC.partitions}-partition topic; SlotBooked values {_bytes(p['baseline_value_bytes'])} "
        f"+ CloudEvents headers {_bytes(p['baseline_header_bytes'])}, keyed by random appointment ids.",
        "B: services.common.eventstore.append called directly (events row + outbox row + NOTIFY), one "
        f"transaction per booking, on the path's diary-day streams; {p['store_conflicts_retried']} "
        "conflicts retried.",
        "path: `python -m services.booking` as a subprocess, seeded with the county and, through "
        "roster.events, one officer on duty per planned station day; POST /stations/{id}/appointments "
        "with a call-taker token. 201→Kafka runs from the 201 until this process read the booking.events "
        f"record keyed by its appointment id (values {_bytes(p['path_value_bytes'])}, headers "
        f"{_bytes(p['path_header_bytes'])}); POST→Kafka is end to end, and its rate is the path's.",
        "CPU: client = this process (getrusage); service = the booking subprocess (/proc/<pid>/stat); "
        "Kafka+PG = the broker and the postmaster with all its backends (anything else using them counts).",
        "path ÷ this = the path's end-to-end bookings/s over the baseline's.",
    ]
    if p["path_failures"]:
        lines.append(f"Path failures: {p['path_failures']}")
    if p["path_missing_on_kafka"]:
        lines.append(f"{p['path_missing_on_kafka']} booked events never reached Kafka in time.")
    if not p["servers_cpu_measured"]:
        lines.append("Kafka+PG CPU not measured: the servers are not processes this machine lets us read.")
    return lines


def write_json(report: Report, path: Path) -> None:
    """Write the report's figures as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench`: run every phase, print the table, write the JSON."""
    args = parse_args(argv)
    # Warnings only: the table is the output, not the store's "migrations applied" lines.
    configure_logging("bench", json=False, level=logging.WARNING)
    # Imported here: the server machinery is only needed when a run actually starts.
    from tests.support.servers import find_or_start_servers

    console = Console()
    if not console.is_terminal:
        # Piped or logged (make bench | tee): rich would assume 80 columns and fold every cell.
        console = Console(width=REPORT_WIDTH)
    found, stop = find_or_start_servers()
    try:
        # A plain line, not a spinner: a spinner's refresh thread would bill its CPU to the client.
        console.print(
            f"Benchmarking {args.count} bookings per phase (+{args.warmup} warm-up) at concurrency "
            f"{args.concurrency} on Kafka {found.kafka_bootstrap} ..."
        )
        report = asyncio.run(
            run(found.kafka_bootstrap, found.pg_url, args.count, args.concurrency, args.warmup)
        )
    finally:
        stop()
    console.print(render(report))
    output: Path = args.output or settings().state_dir / "bench" / "latest.json"
    write_json(report, output)
    console.print(f"Figures written to {output}")
    return 0
