"""The projections catching up from a backlog: `python -m services.projections` on a fresh database."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.figures import PROJECTIONS, PROJECTIONS_RUNNING, Row
from bench.load import Meter, Sample
from bench.service import check_alive, free_port, service_process
from bench.stage import Run, Stage
from schemas.topics import BOOKING_EVENTS

POLL_SECONDS = 0.05
# However slow the projections are, the run ends: after this long, or at this many records a
# second if that takes longer, the figures are what was applied by then.
CATCH_UP_SECONDS = 300.0
SLOWEST_RATE = 40.0


@dataclass(frozen=True)
class CatchUp:
    """The catch-up's rows, and what its database held at the end."""

    rows: list[Row]
    applied: int
    diary_rows: int | None
    timed_out: bool


async def _connect(url: str) -> asyncpg.Connection | None:
    try:
        conn: asyncpg.Connection = await asyncpg.connect(url)
        return conn
    except asyncpg.InvalidCatalogNameError:
        return None  # the service has not created its database yet


async def applied(conn: asyncpg.Connection, topic: str) -> int | None:
    """Records of ``topic`` the projections applied: the next offsets they stored, summed (a fresh topic)."""
    try:
        value = await conn.fetchval(
            "select coalesce(sum(next_offset), 0) from consumer_offsets where topic = $1", topic
        )
    except asyncpg.UndefinedTableError:
        return None  # not migrated yet
    return int(value)


async def catch_up(run: Run, stage: Stage, total: int, log_path: Path) -> CatchUp:
    """Start the projections on the stage's backlog of ``total`` records; time them until all are applied."""
    topic = stage.settings.topic(BOOKING_EVENTS)
    url = stage.settings.database_url("projections")
    limit = max(CATCH_UP_SECONDS, total / SLOWEST_RATE)
    with service_process("services.projections", stage.env("projections", free_port()), log_path) as process:
        meter = run.meter(process.pid)
        start = meter.sample()
        conn: asyncpg.Connection | None = None
        first: tuple[float, int] | None = None
        done = 0
        try:
            while done < total and time.perf_counter() - start.wall < limit:
                check_alive(process, log_path)
                conn = conn or await _connect(url)
                done = (await applied(conn, topic) or 0) if conn is not None else 0
                if done and first is None:
                    first = (time.perf_counter(), done)
                if done < total:
                    await asyncio.sleep(POLL_SECONDS)
            end = meter.sample()
            diary = None
            if conn is not None:
                with contextlib.suppress(asyncpg.PostgresError):
                    diary = int(await conn.fetchval("select count(*) from diary"))
        finally:
            if conn is not None:
                await conn.close()
    return CatchUp(_rows(start, end, done, first), done, diary, done < total)


def _rows(start: Sample, end: Sample, done: int, first: tuple[float, int] | None) -> list[Row]:
    usage = Meter.between(start, end)
    rows = [
        Row(
            PROJECTIONS, "projections catch-up, from start", done, usage.wall, None,
            usage.client_cpu, usage.service_cpu, usage.server_cpu,
        )
    ]  # fmt: skip
    if first is not None and done > first[1]:
        # Without the start-up (interpreter, migrations, joining the group): the steady rate.
        label = "projections, from first applied"
        rows.append(Row(PROJECTIONS_RUNNING, label, done - first[1], end.wall - first[0], None))
    return rows
