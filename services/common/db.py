"""PostgreSQL access: each service's own database, created on demand, with versioned migrations."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import asyncpg

from services.common.logging import get_logger

log = get_logger(__name__)

COMMON_MIGRATIONS = Path(__file__).with_name("migrations")
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _split(url: str) -> tuple[str, str]:
    base, _, name = url.rpartition("/")
    return base, name


async def ensure_database(url: str) -> None:
    """Create the database named at the end of ``url`` if it does not exist yet."""
    base, name = _split(url)
    if not _DB_NAME.match(name):
        raise ValueError(f"refusing odd database name {name!r}")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", name)
        if not exists:
            # Another process may win the race to create it; that is fine. Two creating at once
            # can also collide on the catalogue's unique index rather than the friendly error.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    """Drop a database (tests and `appointments replay --from-scratch`)."""
    base, name = _split(url)
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await conn.close()


async def migrate(pool: asyncpg.Pool, folders: Sequence[Path]) -> list[str]:
    """Apply the not-yet-applied ``*.sql`` files of ``folders`` in name order; returns what ran."""
    applied: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        # One migrator at a time, even when several processes start together.
        await conn.execute("select pg_advisory_xact_lock(7061968)")
        await conn.execute(
            "create table if not exists schema_migrations ("
            " name text primary key, applied_at timestamptz not null default now())"
        )
        done = {r["name"] for r in await conn.fetch("select name from schema_migrations")}
        for folder in folders:
            for file in sorted(folder.glob("*.sql")):
                key = f"{folder.parent.name}/{folder.name}/{file.name}"
                if key in done:
                    continue
                await conn.execute(file.read_text())
                await conn.execute("insert into schema_migrations(name) values ($1)", key)
                applied.append(key)
    if applied:
        log.info("migrations applied", migrations=applied)
    return applied


# A server not answering, restarting or full: not the request's fault, and likely to pass.
OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


def is_outage(exc: BaseException) -> bool:
    """Whether an error means a server is down or busy (answer 503 and retry), not a bug or bad input."""
    return isinstance(exc, OUTAGES)


async def _nothing_session_wide(_: asyncpg.Connection) -> None:
    """Ordinary checkouts leave no session state (asyncpg still rolls back an open transaction)."""


@contextlib.asynccontextmanager
async def session_connection(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for session state (advisory locks, LISTEN), fully reset before it goes back.

    The pool skips asyncpg's reset query (a round trip on every release) for the units of
    work, which leave nothing behind; whoever takes a lock or listens uses this instead.
    """
    async with pool.acquire() as conn:
        try:
            yield conn
        finally:
            try:
                await conn.reset()
            except BaseException:
                conn.terminate()  # the pool replaces it: no lock or listener can outlive us
                raise


async def open_pool(url: str, folders: Sequence[Path], *, max_size: int = 10) -> asyncpg.Pool:
    """Create the database if needed, connect a pool, and migrate it."""
    await ensure_database(url)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size, reset=_nothing_session_wide)
    assert pool is not None
    await migrate(pool, folders)
    return pool
