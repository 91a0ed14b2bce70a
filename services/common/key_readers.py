"""Reading the key store from a service other than booking: a grant to read keys, nothing more.

Booking seals callers' details under each caller's key in the key store's own database. A
service that must show or send some of them in clear (notifications sends a text to the
caller's number; projections show an officer's day) gets, on its own login role, ``CONNECT``
on the key store and ``SELECT (subject_id, key)`` on its keys: it can neither make a key nor
destroy one, nor read who erased whom.
"""

from __future__ import annotations

import asyncpg

from services.common.config import Settings
from services.common.db import MIGRATION_LOCK, Login, ensure_database, migrate
from services.common.shredding import KEYSTORE_DATABASE, KEYSTORE_MIGRATIONS


async def grant_key_reading(cfg: Settings, service: str) -> Login:
    """As the owner: make sure the key store exists, and let ``service``'s role read its keys only."""
    url = cfg.database_url(KEYSTORE_DATABASE)
    await ensure_database(url)
    login = Login(cfg.login_role(service), cfg.login_password(service))
    owner = await asyncpg.create_pool(url, min_size=1, max_size=1)
    assert owner is not None
    try:
        await migrate(owner, [KEYSTORE_MIGRATIONS])  # booking's start does the same; whoever is first
        role = _ident(login.role)
        async with owner.acquire() as conn, conn.transaction():
            # Under the migrators' lock: the other services' starts grant on the same catalogue rows.
            await conn.execute("select pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            database = _ident(await conn.fetchval("select current_database()"))
            await conn.execute(
                f"grant connect on database {database} to {role};"
                f" grant usage on schema public to {role};"
                f" grant select (subject_id, key) on subject_keys to {role}"
            )
    finally:
        await owner.close()
    return login


async def key_reader_pool(cfg: Settings, service: str, max_size: int = 3) -> asyncpg.Pool:
    """A pool on the key store as ``service``'s own role, granted its reading first."""
    login = await grant_key_reading(cfg, service)
    pool = await asyncpg.create_pool(
        login.url(cfg.database_url(KEYSTORE_DATABASE)), min_size=1, max_size=max_size
    )
    assert pool is not None
    return pool


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
