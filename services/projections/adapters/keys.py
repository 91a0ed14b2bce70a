"""Reading the key store: the projections open an officer's briefings, and may do nothing else.

Booking seals callers' details and briefings under each caller's key, in the key store's own
database. The projections need them in clear only to show an officer's day to the officer
assigned, their supervisors and auditors, so their login role is granted, as the notifications
service's is, ``CONNECT`` on the key store and ``SELECT (subject_id, key)`` on its keys, nothing
more: it can neither make a key nor destroy one. An erased caller's values open to None.
"""

from __future__ import annotations

import asyncpg

from schemas.personal import Sealed
from services.common.config import Settings
from services.common.db import Login, ensure_database, migrate
from services.common.shredding import KEYSTORE_DATABASE, KEYSTORE_MIGRATIONS, open_with

SERVICE = "projections"
# services.common.db's migration lock: one migrator (or granter) at a time per database.
MIGRATION_LOCK = 7061968


class ReadOnlyKeys:
    """The key store's keys, read on the projections' own login role; a key read once per call."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def keys_of(self, subject_ids: set[str]) -> dict[str, bytes | None]:
        """Each subject's key, None for an erased (or unknown) one, in one query."""
        rows = await self._pool.fetch(
            "select subject_id, key from subject_keys where subject_id = any($1::text[])", sorted(subject_ids)
        )
        found: dict[str, bytes | None] = dict.fromkeys(subject_ids)
        found.update({r["subject_id"]: r["key"] for r in rows})
        return found

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()


def opened(keys: dict[str, bytes | None], sealed: Sealed | None) -> str | None:
    """A sealed value in clear with the keys read; None when absent or its subject is erased."""
    if sealed is None:
        return None
    key = keys.get(sealed.subject_id)
    return None if key is None else open_with(key, sealed)


async def grant_key_reading(cfg: Settings) -> Login:
    """As the owner: make sure the key store exists, and let the projections' role read its keys only."""
    url = cfg.database_url(KEYSTORE_DATABASE)
    await ensure_database(url)
    login = Login(cfg.login_role(SERVICE), cfg.login_password(SERVICE))
    owner = await asyncpg.create_pool(url, min_size=1, max_size=1)
    assert owner is not None
    try:
        await migrate(owner, [KEYSTORE_MIGRATIONS])  # booking's start does the same; whoever is first
        role = _ident(login.role)
        async with owner.acquire() as conn, conn.transaction():
            # Under the migrators' lock: booking's and notifications' starts grant on the same rows.
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


async def open_keys(cfg: Settings, max_size: int = 3) -> ReadOnlyKeys:
    """The key store, read as the projections' own role (granted first)."""
    login = await grant_key_reading(cfg)
    pool = await asyncpg.create_pool(
        login.url(cfg.database_url(KEYSTORE_DATABASE)), min_size=1, max_size=max_size
    )
    assert pool is not None
    return ReadOnlyKeys(pool)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
