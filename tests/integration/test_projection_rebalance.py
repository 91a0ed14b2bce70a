"""Two projections instances in one consumer group; one is SIGKILLed mid-backlog: every record applied once.

The instances share booking.events' partitions. When one dies, the group hands its partitions to
the other, which goes on from the positions stored with the rows (the same transaction), so a
record the dead one had applied is not applied again and none is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bench.catchup import applied
from bench.forms import backlog
from bench.offer import publish
from schemas.topics import BOOKING_EVENTS
from services.common.config import Settings
from services.common.db import drop_database
from tests.support.services import ServiceProcess, service
from tests.support.topics import create_topics, delete_topics

pytestmark = pytest.mark.integration
BACKLOG = 20_000


@pytest.fixture
async def own_topics(test_settings: Settings, run_id: str) -> AsyncIterator[str]:
    """The contract topics under a prefix of this test's own, holding a backlog of bookings."""
    prefix = f"test-{run_id}-rebalance."
    await create_topics(test_settings.kafka_bootstrap, prefix)
    try:
        events = await backlog(BACKLOG, run_id, "rebalance-secret", datetime.now(UTC))
        await publish(test_settings.kafka_bootstrap, f"{prefix}{BOOKING_EVENTS}", events)
        yield prefix
    finally:
        await delete_topics(test_settings.kafka_bootstrap, prefix)


async def applied_now(url: str, topic: str) -> int:
    try:
        conn = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError:
        return 0  # not made yet
    try:
        return await applied(conn, topic) or 0
    finally:
        await conn.close()


async def test_an_instance_killed_mid_backlog_hands_over_and_every_record_is_applied_once(
    own_topics: str, test_settings: Settings, run_id: str, tmp_path: Path
) -> None:
    suffix = f"_rebalance{run_id}"
    env = {"APPOINTMENTS_TOPIC_PREFIX": own_topics, "APPOINTMENTS_DB_SUFFIX": suffix}
    url = test_settings.database_url("projections").removesuffix(test_settings.db_suffix) + suffix
    topic = f"{own_topics}{BOOKING_EVENTS}"
    doomed: ServiceProcess = service("projections", tmp_path, **env)
    survivor: ServiceProcess = service("projections", tmp_path, **env)
    try:
        # Both start at once, and the backlog is watched from the first moment: it goes fast.
        starting = [asyncio.create_task(i.start()) for i in (doomed, survivor)]
        deadline = time.monotonic() + 120
        while (done := await applied_now(url, topic)) < BACKLOG // 10:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {done} records applied")
            await asyncio.sleep(0.01)
        assert doomed.process is not None
        starting[0].cancel()  # its health no longer matters
        with contextlib.suppress(asyncio.CancelledError):
            await starting[0]
        doomed.process.kill()  # SIGKILL, mid-backlog
        doomed.process.wait()
        assert done < BACKLOG
        await asyncio.gather(starting[1])

        deadline = time.monotonic() + 180  # the group waits out the dead member's session first
        while (done := await applied_now(url, topic)) < BACKLOG:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {done} of {BACKLOG} applied after the kill")
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # nothing more arrives: a record applied twice would show below
        conn = await asyncpg.connect(url)
        try:
            kept = await conn.fetchval(
                "select count(*) from event_history where topic = $1 and event_type = 'SlotBooked'", topic
            )
            diary = await conn.fetchval("select count(*) from diary")
        finally:
            await conn.close()
        assert (await applied_now(url, topic), kept, diary) == (BACKLOG, BACKLOG, BACKLOG)
    finally:
        for instance in (doomed, survivor):
            if instance.process is not None and instance.process.poll() is None:
                instance.stop()
        await drop_database(url)
