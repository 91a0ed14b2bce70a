"""Integration fixtures: topics and databases of this test run only, on the real servers."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from services.common.config import Settings, settings
from services.common.db import COMMON_MIGRATIONS, drop_database, drop_roles, open_pool
from tests.support import roster
from tests.support.servers import Servers
from tests.support.services import ServiceProcess, seed_county, service, wait_for_capacity, wait_for_county
from tests.support.topics import create_topics, delete_topics


@pytest.fixture(scope="session")
def run_id() -> str:
    """A short id that names this run's topics and databases."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
async def test_settings(servers: Servers, run_id: str) -> AsyncIterator[Settings]:
    """Settings pointing at the real servers, with this run's own topic prefix and databases."""
    prefix = f"test-{run_id}."
    await create_topics(servers.kafka_bootstrap, prefix)
    values = {
        "APPOINTMENTS_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        "APPOINTMENTS_PG_URL": servers.pg_url,
        "APPOINTMENTS_TOPIC_PREFIX": prefix,
        "APPOINTMENTS_DB_SUFFIX": f"_t{run_id}",
        "APPOINTMENTS_RELAY_POLL_SECONDS": "0.05",
        "APPOINTMENTS_LOG_JSON": "false",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    settings.cache_clear()
    yield settings()
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old
    settings.cache_clear()
    try:
        await delete_topics(servers.kafka_bootstrap, prefix)
    finally:
        # Even with the broker gone, the run's databases and login roles are not left behind.
        await drop_run_databases(servers.pg_url, run_id)


async def drop_run_databases(pg_url: str, run_id: str) -> None:
    """Drop every database and login role this run made (each name holds the run id).

    Hundreds of leftover databases keep autovacuum busy visiting them, on the cores the next
    run and every benchmark share. A role goes once the databases granting it anything have.
    """
    conn = await asyncpg.connect(f"{pg_url}/postgres")
    try:
        names = await conn.fetch("select datname from pg_database where strpos(datname, $1) > 0", run_id)
        for row in names:
            await drop_database(f"{pg_url}/{row['datname']}")
        await drop_roles(conn, run_id)
    finally:
        await conn.close()


@pytest.fixture
async def fresh_database(test_settings: Settings) -> AsyncIterator[Callable[[str], Awaitable[asyncpg.Pool]]]:
    """Make a migrated event-store database of a given name for one test; dropped afterwards."""
    made: list[tuple[str, asyncpg.Pool]] = []

    async def make(name: str) -> asyncpg.Pool:
        url = test_settings.database_url(f"{name}_{uuid.uuid4().hex[:6]}")
        pool = await open_pool(url, [COMMON_MIGRATIONS])
        made.append((url, pool))
        return pool

    yield make
    for url, pool in made:
        await pool.close()
        await drop_database(url)


@pytest.fixture(scope="session")
async def booking_and_projections(
    test_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ServiceProcess, ServiceProcess]]:
    """The booking and projections services, running as real processes for this test run."""
    logs = tmp_path_factory.mktemp("service-logs")
    booking = await service("booking", logs).start()
    await seed_county(booking)
    await roster.publish(test_settings, roster.county_roster())
    await wait_for_capacity(booking, "stevenage", "2027-02-03")
    projections = await service("projections", logs).start()
    await wait_for_county(projections, "stevenage", "2027-02-03")
    yield booking, projections
    booking.stop()
    projections.stop()
