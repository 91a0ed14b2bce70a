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
from services.common import key_readers
from services.common.config import Settings
from services.common.db import Login
from services.common.shredding import open_with

SERVICE = "projections"


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
    """As the owner: make sure the key store exists, and let the projections role read its keys only."""
    return await key_readers.grant_key_reading(cfg, SERVICE)


async def open_keys(cfg: Settings, max_size: int = 3) -> ReadOnlyKeys:
    """The key store, read as the projections' own role (granted first)."""
    return ReadOnlyKeys(await key_readers.key_reader_pool(cfg, SERVICE, max_size))
