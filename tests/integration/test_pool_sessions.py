"""Pooled connections: units of work skip the reset round trip; session holders still leave nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.common.config import Settings
from services.common.db import COMMON_MIGRATIONS, drop_database, open_pool, session_connection

pytestmark = pytest.mark.integration

LOCK = 424242


@pytest.fixture
async def pool(test_settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection, so every checkout meets what the previous one left behind."""
    url = test_settings.database_url(f"sessions_{uuid.uuid4().hex[:6]}")
    pool = await open_pool(url, [COMMON_MIGRATIONS], max_size=1)
    yield pool
    await pool.close()
    await drop_database(url)


async def _locks_held(pool: asyncpg.Pool) -> int:
    n: int = await pool.fetchval(
        "select count(*) from pg_locks where locktype = 'advisory' and objid = $1 and granted", LOCK
    )
    return n


async def test_a_session_connection_gives_back_its_lock_and_listener(pool: asyncpg.Pool) -> None:
    async with session_connection(pool) as conn:
        assert await conn.fetchval("select pg_try_advisory_lock($1)", LOCK)
        await conn.add_listener("somewhere", lambda *_: None)
        pid = conn.get_server_pid()
    async with pool.acquire() as again:
        assert again.get_server_pid() == pid  # the very same session, cleaned
        assert await again.fetchval("select count(*) from pg_listening_channels()") == 0
    assert await _locks_held(pool) == 0


async def test_an_ordinary_checkout_with_an_open_transaction_is_rolled_back(pool: asyncpg.Pool) -> None:
    await pool.execute("create table marks (n int)")
    conn = await pool.acquire()
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute("insert into marks values (1)")
    await pool.release(conn)  # abandoned mid-transaction, as a cancelled request would
    assert await pool.fetchval("select count(*) from marks") == 0


async def test_a_cancelled_holder_whose_pool_is_closing_ends_cancelled_not_with_a_cleanup_error(
    pool: asyncpg.Pool,
) -> None:
    """A service stopping cancels its listeners while its pool is being taken down under them.

    The reset on the way out then met a connection the pool had already taken back, and its
    InterfaceError replaced the CancelledError: the listener's retry loop took it for an outage,
    went round again for ever, and the stopping worker never exited (found orphaned after a run).
    """
    holding = asyncio.Event()

    async def listen() -> None:
        async with session_connection(pool) as conn:
            await conn.add_listener("somewhere", lambda *_: None)
            holding.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(listen())
    await holding.wait()
    pool.terminate()  # the pool takes its connections back, as a closing service's does
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
