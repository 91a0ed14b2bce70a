"""A running booking service for a stage: started, healthy, seeded, offering the run's slots."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.client import Answer, Client
from bench.offer import publish, seed_county, wait_until_offered
from bench.service import free_port, service_process
from bench.stage import Run, Stage
from bench.workers import NEW_CONNECTION, on_every_worker
from bench.workload import PlannedSlot
from schemas.topics import ROSTER_EVENTS
from services.common.auth import Role
from services.common.eventstore import Outgoing

HTTP_TIMEOUT_SECONDS = 30.0
READY_SECONDS = 90.0


@dataclass(frozen=True)
class Session:
    """A booking service ready for load, and an HTTP client (a call taker's) pointed at it."""

    client: Client
    process: subprocess.Popen[bytes]
    log_path: Path


@contextlib.asynccontextmanager
async def booking_session(
    run: Run,
    stage: Stage,
    *,
    on_duty: Sequence[Outgoing],
    offers: Sequence[PlannedSlot],
    concurrency: int,
    log_path: Path,
) -> AsyncIterator[Session]:
    """Put ``on_duty`` on the roster, start `python -m services.booking`, seed it, wait for ``offers``."""
    # Before the service starts: its roster consumer reads them from the topic's beginning.
    await publish(stage.settings.kafka_bootstrap, stage.settings.topic(ROSTER_EVENTS), on_duty)
    port = free_port()
    async with Client(
        f"http://127.0.0.1:{port}",
        headers={"authorization": f"Bearer {run.token(Role.CALL_TAKER)}"},
        connections=concurrency,
        timeout=HTTP_TIMEOUT_SECONDS,
    ) as client:
        with service_process("services.booking", stage.env("booking", port), log_path) as process:
            # Every worker healthy, then every worker holding the county: a booking process
            # reads the county when it starts, or when it is seeded itself.
            admin = run.token(Role.ADMIN)

            def health() -> Awaitable[Answer]:
                return client.get("/health", headers=NEW_CONNECTION)

            def seed() -> Awaitable[Answer]:
                return seed_county(client, admin)

            workers = stage.settings.booking_workers  # as the service reads the same environment
            await on_every_worker(process, log_path, health, READY_SECONDS, "health", workers)
            await on_every_worker(process, log_path, seed, READY_SECONDS, "seeded", workers)
            await wait_until_offered(client, process, offers, log_path)
            yield Session(client, process, log_path)
