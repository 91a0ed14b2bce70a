"""The PostgreSQL event store passes the same contract as the in-memory one, on the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from services.common.db import is_outage
from services.common.eventstore import STREAM_TAILS, StoredEvent, load_stream
from services.common.pg_store import PgEventStore
from services.common.unit_of_work import Loaded, Unit, load_one, run_unit
from tests.support.store_contract import COLLARS, META, Collars, EventStoreContract, Store, registered


@pytest.fixture(params=[False, True], ids=["transaction-first", "lazy"])
async def store(
    fresh_database: Callable[[str], Awaitable[asyncpg.Pool]], request: pytest.FixtureRequest
) -> AsyncIterator[PgEventStore[None]]:
    """Both ways a unit may run: in a transaction opened first, or (lazy) in one only if needed."""
    pool = await fresh_database("contract")
    yield PgEventStore(pool, "urn:test", lambda _conn, _writes: None, lazy=request.param)


class TestPostgresEventStore(EventStoreContract):
    """The contract, on PostgreSQL."""

    @staticmethod
    async def outbox_of(store: Store) -> list[tuple[str, str, str]]:
        assert isinstance(store, PgEventStore)
        rows = await store.pool.fetch(
            "select e.stream_id, o.topic, o.key from outbox o join events e using (event_id) order by o.id"
        )
        return [(r["stream_id"], r["topic"], r["key"]) for r in rows]

    @staticmethod
    async def stored(store: Store, stream_id: str) -> list[StoredEvent]:
        assert isinstance(store, PgEventStore)
        async with store.pool.acquire() as conn:
            return await load_stream(conn, stream_id, "urn:test")


async def test_a_cached_state_catches_up_with_another_process_s_appends(
    store: PgEventStore[None],
) -> None:
    """Each process caches folded states; the events another process appended are still read."""

    other = PgEventStore(store.pool, "urn:test", lambda _conn, _writes: None)  # another booking process

    async def add(on: PgEventStore[None], collar: str) -> None:
        async def work(unit: Unit[None]) -> None:
            loaded = await load_one(unit, COLLARS, "officer:shared")
            unit.append(loaded, [registered("officer:shared", collar)], META)

        await run_unit(on, work)

    await add(store, "1")
    await add(other, "2")
    await add(store, "3")  # decided on the cached ("1",) plus the tail ("2",)

    async def read(unit: Unit[None]) -> Loaded[Collars]:
        return await load_one(unit, COLLARS, "officer:shared")

    mine, theirs = await run_unit(store, read), await run_unit(other, read)
    assert mine.state == theirs.state == ("1", "2", "3")
    assert mine.version == theirs.version == 3


class _PoolThatFailsToTakeBack:
    """The real pool, except that giving a connection back fails (as when the server restarts)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.dropped: list[asyncpg.Connection] = []

    async def acquire(self, timeout: float | None = None) -> asyncpg.Connection:  # noqa: ASYNC109
        return await self._pool.acquire(timeout=timeout)

    async def release(self, conn: asyncpg.Connection) -> None:
        self.dropped.append(conn)
        raise ConnectionResetError("the server went away after the commit")


async def test_a_committed_unit_stays_a_success_when_its_connection_cannot_be_given_back(
    store: PgEventStore[None],
) -> None:
    flaky = _PoolThatFailsToTakeBack(store.pool)
    shaky: PgEventStore[None] = PgEventStore(flaky, "urn:test", lambda _conn, _writes: None)

    async def work(unit: Unit[None]) -> Loaded[Collars]:
        loaded = await load_one(unit, COLLARS, "officer:late")
        return unit.append(loaded, [registered("officer:late", "1")], META)

    after = await run_unit(shaky, work)  # no error: the commit happened
    assert after.version == 1
    assert len(flaky.dropped) == 1  # it was offered back once, failed, and was dropped

    async def read(unit: Unit[None]) -> Loaded[Collars]:
        return await load_one(unit, COLLARS, "officer:late")

    assert (await run_unit(store, read)).state == ("1",)


async def test_a_unit_that_waits_too_long_for_a_connection_is_an_outage_not_a_hang(
    store: PgEventStore[None],
) -> None:
    busy = PgEventStore(store.pool, "urn:test", lambda _conn, _writes: None, acquire_seconds=0.2)
    held = [await store.pool.acquire() for _ in range(store.pool.get_max_size())]
    try:
        with pytest.raises(TimeoutError) as waited:
            await run_unit(busy, lambda unit: load_one(unit, COLLARS, "officer:busy"))
        assert is_outage(waited.value)  # answered 503 with a retry hint, like a server down
    finally:
        for conn in held:
            await store.pool.release(conn)
    assert (await run_unit(busy, lambda unit: load_one(unit, COLLARS, "officer:busy"))).version == 0


async def test_a_load_reads_the_stream_index_even_on_a_plan_made_when_the_store_was_empty(
    fresh_database: Callable[[str], Awaitable[asyncpg.Pool]],
) -> None:
    """A pooled connection keeps a generic plan made while the table was young: it must use the index.

    A join's generic plan costed on an empty table scanned every event of the store for each
    load, and kept doing so as the store grew, until something made the server plan again.
    """
    pool = await fresh_database("plans")
    async with pool.acquire() as conn:
        await conn.execute("set plan_cache_mode = force_generic_plan")  # as a reused statement gets
        await conn.execute(f"prepare tails(text[], text, integer[]) as {STREAM_TAILS}")
        plan = "\n".join(r[0] for r in await conn.fetch("explain execute tails('{a}', 'x', '{0}')"))
    assert "Index Scan using events_stream_id_version_key" in plan, plan
    assert "Seq Scan on events" not in plan, plan
