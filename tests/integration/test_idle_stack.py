"""An idle stack is idle: with no traffic, the services barely touch their databases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.common.config import Settings
from services.common.db import drop_database
from tests.support.services import ServiceProcess, seed_county, service
from tests.support.topics import create_topics, delete_topics

pytestmark = pytest.mark.integration

SERVICES = ("booking", "roster", "projections", "notifications")
# PostgreSQL reports an idle backend's counts up to ten seconds late: let them settle first.
SETTLE_SECONDS = 11.0
WATCH_SECONDS = 20.0
# The relays' slow poll (two statements every five seconds) and the like; 15 a second before.
MOST_PER_SECOND = 1.0


@pytest.fixture
async def idle_stack(test_settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[str, list[str]]]:
    """The four services on their own topics and databases, seeded, with nothing else to do."""
    run = uuid.uuid4().hex[:6]
    prefix, suffix = f"idle-{run}.", f"{test_settings.db_suffix}idle{run}"
    await create_topics(test_settings.kafka_bootstrap, prefix)
    env = {
        "APPOINTMENTS_TOPIC_PREFIX": prefix,
        "APPOINTMENTS_DB_SUFFIX": suffix,
        "APPOINTMENTS_RELAY_POLL_SECONDS": "5",  # the default; the other tests poll fast
    }
    processes: list[ServiceProcess] = []
    try:
        for name in SERVICES:
            processes.append(await service(name, tmp_path, **env).start())
        await seed_county(processes[0])
        yield suffix, [f"{name}{suffix}" for name in SERVICES]
    finally:
        for process in processes:
            process.stop()
        await delete_topics(test_settings.kafka_bootstrap, prefix)
        own = test_settings.model_copy(update={"db_suffix": suffix})
        for name in (*SERVICES, "keystore"):
            await drop_database(own.database_url(name))


async def _transactions(conn: asyncpg.Connection, databases: list[str]) -> dict[str, int]:
    rows = await conn.fetch(
        "select datname, xact_commit + xact_rollback as n from pg_stat_database where datname = any($1)",
        databases,
    )
    return {r["datname"]: r["n"] for r in rows}


async def test_an_idle_stack_asks_its_databases_almost_nothing(
    idle_stack: tuple[str, list[str]], test_settings: Settings
) -> None:
    _, databases = idle_stack
    conn = await asyncpg.connect(test_settings.database_url("postgres").removesuffix(test_settings.db_suffix))
    try:
        await asyncio.sleep(SETTLE_SECONDS)
        before = await _transactions(conn, databases)
        await asyncio.sleep(WATCH_SECONDS)
        after = await _transactions(conn, databases)
    finally:
        await conn.close()
    rates = {db: (after[db] - before[db]) / WATCH_SECONDS for db in databases}
    assert set(rates) == set(databases)
    assert all(rate <= MOST_PER_SECOND for rate in rates.values()), rates
