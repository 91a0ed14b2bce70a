"""One benchmark run: the servers, each phase on topics and databases of its own, the report."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from bench import cpu
from bench.isolated import big_store, cluster, projections
from bench.notes import notes
from bench.options import PHASES, Options, parse_args
from bench.phases import RAW_SPEC, Outcome, append, booking, produce
from bench.plan import make_plan
from bench.replay import replay
from bench.report import Report, render
from bench.sms import sms
from bench.stage import Run, provisioned
from services.common.config import settings
from services.common.logging import configure_logging

REPORT_WIDTH = 120
# The phases on the run's main stage; the others provision stages of their own.
MAIN_PHASES = frozenset({"produce", "append", "path", "free-slots"})


def _local_servers(kafka_bootstrap: str, pg_url: str) -> cpu.Servers:
    kafka_port = int(kafka_bootstrap.split(",")[0].rpartition(":")[2])
    pg_port = urlsplit(pg_url).port or 5432
    return cpu.Servers(cpu.listener_pid(kafka_port), cpu.listener_pid(pg_port))


async def run(kafka_bootstrap: str, pg_url: str, options: Options) -> Report:
    """Every phase asked for, against the given servers, in topics and databases of this run only."""
    now = datetime.now(UTC)
    servers = _local_servers(kafka_bootstrap, pg_url)
    bench = Run(uuid.uuid4().hex[:8], kafka_bootstrap, pg_url, secrets.token_urlsafe(32), now, servers)
    # Every booking phase books the same slots: the baselines and the big store in stores of
    # their own, so each finds its slots free.
    plan = await make_plan(bench.run_id, bench.secret, now, options.warmup, options.count)
    log_dir = settings().state_dir / "bench"
    found = Outcome()
    if options.phases & MAIN_PHASES:
        async with provisioned(bench.stage(), extra=[RAW_SPEC]) as stage:
            if options.runs("produce"):
                await found.attempt("produce", lambda: produce(bench, stage, plan, options))
            if options.runs("append"):
                await found.attempt("append", lambda: append(bench, stage, plan, options))
            if options.runs("path") or options.runs("free-slots"):
                await found.attempt("booking", lambda: booking(bench, stage, plan, options, log_dir))
    if options.runs("projections"):
        await found.attempt("projections", lambda: projections(bench, options, log_dir))
    if options.runs("big-store"):
        await found.attempt("big-store", lambda: big_store(bench, plan, options, log_dir))
    if options.runs("cluster"):
        await found.attempt("cluster", lambda: cluster(bench, plan, options, log_dir))
    if options.runs("replay"):
        await found.attempt("replay", lambda: replay(bench, options, log_dir))
    if options.runs("sms"):
        await found.attempt("sms", lambda: sms(bench, plan, options, log_dir))
    report = Report(
        rows=found.rows,
        parameters={
            **{k: v for k, v in asdict(options).items() if k != "output"},
            "phases": [p for p in PHASES if options.runs(p)],
            "run_id": bench.run_id,
            "started_at": now.isoformat(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "kafka_bootstrap": kafka_bootstrap,
            "servers_cpu_measured": servers.kafka_pid is not None and servers.postgres_pid is not None,
            **found.parameters,
        },
    )  # fmt: skip
    report.notes = notes(report)
    return report


def write_json(report: Report, path: Path) -> None:
    """Write the report's figures as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench`: run the phases asked for, print the tables, write the JSON."""
    options = parse_args(argv)
    # Warnings only: the tables are the output, not the store's "migrations applied" lines.
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
            f"Benchmarking {', '.join(sorted(options.phases))}: {options.count} bookings per phase "
            f"(+{options.warmup} warm-up) at concurrency {options.concurrency} on Kafka "
            f"{found.kafka_bootstrap} ..."
        )
        report = asyncio.run(run(found.kafka_bootstrap, found.pg_url, options))
    finally:
        stop()
    console.print(render(report))
    output = options.output or settings().state_dir / "bench" / "latest.json"
    write_json(report, output)
    console.print(f"Figures written to {output}")
    return 0
