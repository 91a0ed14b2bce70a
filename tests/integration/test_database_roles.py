"""Least privilege on the real server: a service's login role appends and reads, and nothing more.

The owner (APPOINTMENTS_PG_URL's user) migrates; the service's own role serves. These tests
connect as booking's role and as roster's and try each thing the role must never do.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from services.common.config import PROJECT_ROOT, Settings
from services.common.db import (
    COMMON_MIGRATIONS,
    Login,
    drop_database,
    drop_roles,
    login_for,
    open_pool,
)
from services.common.eventstore import load_stream
from services.common.pg_store import PgEventStore
from services.common.shredding import KEYSTORE_MIGRATIONS
from services.common.unit_of_work import Unit, load_one, run_unit
from tests.support.store_contract import COLLARS, META, registered

BOOKING_MIGRATIONS = PROJECT_ROOT / "services" / "booking" / "migrations"


@dataclass(frozen=True)
class Databases:
    """Booking's, the key store's and roster's databases of one test, and their roles."""

    settings: Settings
    booking: asyncpg.Pool  # served by booking's login role

    def url(self, database: str) -> str:
        """The owner's URL of one of this test's databases."""
        return self.settings.database_url(database)

    def login(self, service: str) -> Login:
        """A service's login role under this test's suffix."""
        return Login(self.settings.login_role(service), self.settings.login_password(service))

    async def connect(self, service: str, database: str) -> asyncpg.Connection:
        """A session as ``service``'s login role on ``database``."""
        return await asyncpg.connect(self.login(service).url(self.url(database)))


@pytest.fixture(scope="module")
async def databases(test_settings: Settings) -> AsyncIterator[Databases]:
    """Booking (with its key store) and roster, migrated by the owner, under a suffix of their own."""
    suffix = f"{test_settings.db_suffix}roles{uuid.uuid4().hex[:6]}"
    cfg = test_settings.model_copy(update={"db_suffix": suffix})
    pools: list[asyncpg.Pool] = []
    for name, folders in (
        ("booking", [COMMON_MIGRATIONS, BOOKING_MIGRATIONS]),
        ("keystore", [KEYSTORE_MIGRATIONS]),
        ("roster", [COMMON_MIGRATIONS]),
    ):
        url = cfg.database_url(name)
        pools.append(await open_pool(url, folders, login=login_for(url, cfg)))
    yield Databases(cfg, pools[0])
    for pool in pools:
        await pool.close()
    for name in ("booking", "keystore", "roster"):
        await drop_database(cfg.database_url(name))
    conn = await asyncpg.connect(f"{cfg.pg_url}/postgres")
    try:
        assert sorted(await drop_roles(conn, suffix)) == [cfg.login_role("booking"), cfg.login_role("roster")]
    finally:
        await conn.close()


async def test_the_pool_a_service_serves_on_is_its_own_login_role_not_the_owner(databases: Databases) -> None:
    async with databases.booking.acquire() as conn:
        who = await conn.fetchrow(
            "select r.rolname, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolbypassrls,"
            " d.datdba = r.oid as owns_database"
            " from pg_roles r, pg_database d"
            " where r.rolname = current_user and d.datname = current_database()"
        )
        table_owner = await conn.fetchval("select tableowner from pg_tables where tablename = 'events'")
    assert who is not None
    assert who["rolname"] == databases.settings.login_role("booking")
    assert not any(
        who[k] for k in ("rolsuper", "rolcreatedb", "rolcreaterole", "rolbypassrls", "owns_database")
    )
    assert table_owner != who["rolname"]


async def test_the_role_appends_events_with_their_outbox_and_reads_them_back(databases: Databases) -> None:
    store = PgEventStore(databases.booking, "urn:test:roles", lambda _conn, _writes: None)

    async def work(unit: Unit[None]) -> None:
        loaded = await load_one(unit, COLLARS, "officer:roles")
        unit.append(loaded, [registered("officer:roles", "4471")], META)

    await run_unit(store, work)
    async with databases.booking.acquire() as conn:
        stored = await load_stream(conn, "officer:roles", "urn:test:roles")
        # What the relay and the consumers write beside the events.
        marked = await conn.execute("update outbox set published_at = now() where published_at is null")
        await conn.execute(
            "insert into consumer_offsets values ('c', 't', 0, 1)"
            " on conflict (consumer, topic, partition) do update set next_offset = excluded.next_offset + 1"
        )
        await conn.execute(
            "insert into room_holds values ('a', 's', 'r', tstzrange(now(), now() + interval '1h'))"
        )
        await conn.execute("delete from room_holds where appointment_id = 'a'")
    assert [e.envelope.data["collar_number"] for e in stored] == ["4471"]
    assert marked == "UPDATE 1"


@pytest.mark.parametrize(
    "statement",
    [
        "update events set actor = 'someone else'",
        "delete from events",
        "truncate events",
        "alter table events disable trigger events_append_only",
        "drop trigger events_append_only on events",
        "alter table events add column note text",
        "alter table outbox drop column topic",
        "drop table outbox",
        "create table scratch (id int)",
        "create function nothing() returns int language sql as 'select 1'",
        "delete from schema_migrations",
        "insert into schema_migrations (name) values ('forged')",
        "create role intruder login",
    ],
)
async def test_the_role_is_refused(databases: Databases, statement: str) -> None:
    async with databases.booking.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
        # Nothing of it happened: history, tables and triggers as the owner left them.
        assert await conn.fetchval("select count(*) from events where actor = 'someone else'") == 0
        assert (
            await conn.fetchval("select tgenabled::text from pg_trigger where tgname = 'events_append_only'")
            == "O"
        )


@pytest.mark.parametrize(
    ("service", "database"),
    [("booking", "roster"), ("roster", "booking"), ("roster", "keystore")],
)
async def test_a_role_cannot_connect_to_another_service_s_database(
    databases: Databases, service: str, database: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="CONNECT"):
        await databases.connect(service, database)


async def test_booking_s_role_reaches_its_key_store_and_roster_s_its_own_database(
    databases: Databases,
) -> None:
    for service, database in (("booking", "keystore"), ("roster", "roster")):
        conn = await databases.connect(service, database)
        try:
            assert await conn.fetchval("select current_user") == databases.settings.login_role(service)
        finally:
            await conn.close()


async def test_a_wrong_password_is_refused(databases: Databases) -> None:
    wrong = Login(databases.settings.login_role("booking"), "not-the-password")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(wrong.url(databases.url("booking")))


async def test_a_table_a_later_migration_creates_is_granted_by_default(databases: Databases) -> None:
    owner = await asyncpg.connect(databases.url("booking"))
    try:
        await owner.execute("create table later_table (id bigint generated always as identity, note text)")
    finally:
        await owner.close()
    async with databases.booking.acquire() as conn:
        await conn.execute("insert into later_table (note) values ('kept')")
        assert await conn.fetchval("select note from later_table") == "kept"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("drop table later_table")


async def test_a_changed_password_is_given_to_the_role_when_the_service_starts(databases: Databases) -> None:
    # The state folder's (or the environment's) password changed since the role was made.
    url = databases.url("roster")
    changed = Login(databases.settings.login_role("roster"), f"changed-{uuid.uuid4().hex}")
    try:
        pool = await open_pool(url, [COMMON_MIGRATIONS], login=changed, max_size=1)
        assert await pool.fetchval("select current_user") == changed.role
        await pool.close()
        with pytest.raises(asyncpg.InvalidPasswordError):
            await databases.connect("roster", "roster")  # the old password opens it no more
    finally:
        pool = await open_pool(url, [COMMON_MIGRATIONS], login=databases.login("roster"), max_size=1)
        await pool.close()
