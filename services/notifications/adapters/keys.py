"""Reading the key store: the notifications service opens sealed phone numbers, and may do nothing else.

Booking seals a caller's number under the caller's key, in the key store's own database.
The notifications service needs the number in clear only at the moment a text goes to
the gateway, so its login role is granted ``CONNECT`` on the key store and ``SELECT`` on
the keys, nothing more: it can neither make a key nor destroy one. An erased caller's
number opens to None, and no text goes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

import asyncpg

from schemas.personal import Sealed
from services.common import key_readers
from services.common.config import Settings
from services.common.db import Login
from services.common.shredding import open_with, seal_with

SERVICE = "notifications"


class Keys(Protocol):
    """The subject keys as notifications may use them: to open, and to seal under a key that exists."""

    async def open(self, sealed: Sealed) -> str | None:
        """The clear value, or None when its subject has been erased."""
        ...

    async def seal(self, subject_id: str, text: str) -> Sealed | None:
        """``text`` sealed under the subject's existing key; None when the subject is erased or unknown."""
        ...


def number_hash(e164: str, secret: str) -> str:
    """The keyed hash of a phone number: how replies are matched, without the number in a table."""
    return hmac.new(secret.encode(), f"sms-number:{e164}".encode(), hashlib.sha256).hexdigest()


class PgReadOnlyKeys:
    """The key store's keys, read on the notifications service's own login role."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _key(self, subject_id: str) -> bytes | None:
        key: bytes | None = await self._pool.fetchval(
            "select key from subject_keys where subject_id = $1", subject_id
        )
        return key

    async def open(self, sealed: Sealed) -> str | None:
        """The clear value, or None when its subject has been erased."""
        key = await self._key(sealed.subject_id)
        return None if key is None else open_with(key, sealed)

    async def seal(self, subject_id: str, text: str) -> Sealed | None:
        """``text`` sealed under the subject's existing key; None when erased or unknown."""
        key = await self._key(subject_id)
        return None if key is None else seal_with(key, subject_id, text)


async def grant_key_reading(cfg: Settings) -> Login:
    """As the owner: make sure the key store exists, and let the notifications role read its keys only."""
    return await key_readers.grant_key_reading(cfg, SERVICE)


async def open_keys(cfg: Settings, max_size: int = 3) -> asyncpg.Pool:
    """A pool on the key store as notifications' own role (after ``grant_key_reading``)."""
    return await key_readers.key_reader_pool(cfg, SERVICE, max_size)
