"""PostgreSQL access: each service's own database, created on demand, with versioned migrations.

Least privilege: the owner (the user of APPOINTMENTS_PG_URL) creates each database, runs its
migrations and so owns every table; the service then serves on its own login role, which may
read and append events and read and write its other tables, but never update or delete an
event, alter or drop a table or a trigger, create anything, or connect to another service's
database.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

import asyncpg

from services.common.config import Settings, settings
from services.common.logging import get_logger

log = get_logger(__name__)

COMMON_MIGRATIONS = Path(__file__).with_name("migrations")
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


# One migrator at a time per database, even when several processes start together.
_MIGRATION_LOCK = 7061968
# The same lock for code outside this module that changes a database's grants (key readers).
MIGRATION_LOCK = _MIGRATION_LOCK
# What a login role may do to these tables; to every other table of its database: select,
# insert, update and delete. History is appended, never changed; migrations are the owner's.
APPEND_ONLY: dict[str, str] = {"events": "select, insert", "schema_migrations": "select"}


def _split(url: str) -> tuple[str, str]:
    base, _, name = url.rpartition("/")
    return base, name


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scram_sha256(password: str, *, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5803's form).

    Sent instead of the password, so no statement (nor a server log of one) ever holds it.
    """
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    salt_text, stored, server = (base64.b64encode(part).decode() for part in (salt, stored_key, server_key))
    return f"SCRAM-SHA-256${iterations}:{salt_text}${stored}:{server}"


@dataclass(frozen=True)
class Login:
    """A service's own login role, which serves its database once the owner has migrated it."""

    role: str
    password: str = field(repr=False)

    def url(self, owner_url: str) -> str:
        """``owner_url`` (same server and database) as this role."""
        parts = urlsplit(owner_url)
        server = parts.netloc.rpartition("@")[2]
        netloc = f"{quote(self.role, safe='')}:{quote(self.password, safe='')}@{server}"
        return parts._replace(netloc=netloc).geturl()


def login_for(url: str, cfg: Settings | None = None) -> Login | None:
    """The login role that serves the database ``url`` names; None when only the owner uses it."""
    cfg = cfg or settings()
    service = cfg.service_of(_split(url)[1])
    return None if service is None else Login(cfg.login_role(service), cfg.login_password(service))


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


async def drop_roles(conn: asyncpg.Connection, containing: str) -> list[str]:
    """Drop the login roles whose names hold ``containing`` (a test run's or a bench stage's).

    Drop their databases first: a role still granted something somewhere stays, and is named.
    """
    dropped: list[str] = []
    rows = await conn.fetch(
        "select rolname from pg_roles where strpos(rolname, $1) > 0 and rolname like 'appointments\\_%'",
        containing,
    )
    for row in rows:
        try:
            await conn.execute(f"drop role if exists {_ident(row['rolname'])}")
            dropped.append(row["rolname"])
        except asyncpg.DependentObjectsStillExistError:
            log.warning("login role still granted elsewhere; kept", role=row["rolname"])
    return dropped


async def migrate(pool: asyncpg.Pool, folders: Sequence[Path], login: Login | None = None) -> list[str]:
    """Apply the not-yet-applied ``*.sql`` files of ``folders`` in name order; returns what ran.

    Run as the owner; given a ``login``, the same transaction grants that role what it may do.
    """
    async with pool.acquire() as conn:
        return await _migrate(conn, folders, login)


async def _migrate(conn: asyncpg.Connection, folders: Sequence[Path], login: Login | None) -> list[str]:
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
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
        if login is not None:
            await _grant(conn, login)
    if applied:
        log.info("migrations applied", migrations=applied)
    return applied


async def _grant(conn: asyncpg.Connection, login: Login) -> None:
    """Create the login role if missing and grant it its own database's tables, and nothing more.

    Run on every start, after the migrations and in their transaction (under their lock): the
    grants follow whatever tables now exist, and the default privileges cover tables that a
    later migration creates.
    """
    role = _ident(login.role)
    if not await conn.fetchval("select true from pg_roles where rolname = $1", login.role):
        # A migrator of another of the service's databases may create it first.
        with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            async with conn.transaction():
                await conn.execute(
                    f"create role {role} with login nosuperuser nocreatedb nocreaterole noinherit"
                    f" noreplication password '{scram_sha256(login.password)}'"
                )
    database = _ident(await conn.fetchval("select current_database()"))
    statements = [
        # Nobody else may connect (PUBLIC may by default) or make temporary tables.
        f"revoke all on database {database} from public",
        f"grant connect on database {database} to {role}",
        "revoke create on schema public from public",
        f"grant usage on schema public to {role}",
        f"grant select, insert, update, delete on all tables in schema public to {role}",
        f"grant usage, select on all sequences in schema public to {role}",
        f"alter default privileges in schema public grant select, insert, update, delete on tables to {role}",
        f"alter default privileges in schema public grant usage, select on sequences to {role}",
    ]
    for table, allowed in APPEND_ONLY.items():
        if await conn.fetchval("select to_regclass($1) is not null", f"public.{table}"):
            statements += [
                f"revoke all on table {table} from {role}",
                f"grant {allowed} on table {table} to {role}",
            ]
    await conn.execute(";\n".join(statements))


async def _set_password(owner_url: str, login: Login) -> None:
    """Give the login role the password this process holds (the environment's or the state folder's)."""
    conn = await asyncpg.connect(owner_url)
    try:
        async with conn.transaction():
            await conn.execute("select pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(f"alter role {_ident(login.role)} password '{scram_sha256(login.password)}'")
    finally:
        await conn.close()


# A server not answering, restarting or full: not the request's fault, and likely to pass.
# How long a request waits for a pooled connection before it is an outage (503, try again): a
# pool whose every connection is busy this long is not keeping up, and waiting on would only
# pile up requests that their callers have given up on.
ACQUIRE_SECONDS = 5.0
OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # What asyncpg raises for a statement on a connection whose server died mid-way through the
    # one before ("cannot switch to state ...; another operation is in progress").
    asyncpg.InternalClientError,
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
            except asyncpg.InterfaceError:
                # The pool took it back already (it is being closed): nothing of ours outlives
                # that, and raising here would hide why we left (a cancellation above all).
                pass
            except BaseException:
                with contextlib.suppress(asyncpg.InterfaceError):
                    conn.terminate()  # the pool replaces it: no lock or listener can outlive us
                raise


async def _pool(url: str, max_size: int) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size, reset=_nothing_session_wide)
    assert pool is not None
    return pool


async def open_pool(
    url: str,
    folders: Sequence[Path],
    *,
    max_size: int = 10,
    login: Login | Literal["settings"] | None = "settings",
) -> asyncpg.Pool:
    """Create the database if needed and migrate it as the owner ``url`` names; a pool to serve it.

    The pool is the service's own login role's: ``login``, by default the one the settings
    give this database; a database no service owns (a test's, the bench's) is served by the owner.
    """
    await ensure_database(url)
    if login == "settings":
        login = login_for(url)
    if login is None:
        pool = await _pool(url, max_size)
        await migrate(pool, folders)
        return pool
    owner = await asyncpg.connect(url)
    try:
        await _migrate(owner, folders, login)
    finally:
        await owner.close()
    try:
        return await _pool(login.url(url), max_size)
    except asyncpg.InvalidPasswordError:
        # The role was made with another password (the environment's or the state folder's changed).
        await _set_password(url, login)
        return await _pool(login.url(url), max_size)
