"""Crypto-shredding: seal personal data under a key per data subject; erase by deleting the key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.personal import Sealed
from services.common.db import ACQUIRE_SECONDS

KEYSTORE_MIGRATIONS = Path(__file__).with_name("keystore_migrations")
KEYSTORE_DATABASE = "keystore"


class SubjectErased(Exception):
    """The data subject's key was destroyed: the value can never be read again."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def subject_id_for(kind: str, identifier: str, secret: str) -> str:
    """A stable pseudonymous subject id (e.g. from a caller's E.164 number), keyed by ``secret``."""
    digest = hmac.new(secret.encode(), f"{kind}:{identifier}".encode(), hashlib.sha256).hexdigest()
    return f"subject-{digest[:24]}"


def seal_with(key: bytes, subject_id: str, plaintext: str) -> Sealed:
    """Encrypt one value under a subject's key (the subject id is bound in as associated data)."""
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode(), subject_id.encode())
    return Sealed(subject_id=subject_id, nonce=_b64(nonce), ciphertext=_b64(ciphertext))


def open_with(key: bytes, sealed: Sealed) -> str:
    """Decrypt one value with its subject's key; raises ValueError if it was tampered with."""
    try:
        plain = AESGCM(key).decrypt(
            base64.urlsafe_b64decode(sealed.nonce),
            base64.urlsafe_b64decode(sealed.ciphertext),
            sealed.subject_id.encode(),
        )
    except InvalidTag as exc:
        raise ValueError("sealed value does not match its key (tampered or wrong subject)") from exc
    return plain.decode()


class KeyStore(Protocol):
    """Where subject keys live; erasing a key makes every sealed copy unreadable."""

    async def seal(self, subject_id: str, values: Mapping[str, str]) -> dict[str, Sealed]:
        """Seal several values of one subject (creating the subject's key on first use)."""
        ...

    async def open(self, sealed: Sealed) -> str | None:
        """The clear value, or None when its subject has been erased."""
        ...

    async def erase(self, subject_id: str, erased_by: str) -> bool:
        """Destroy a subject's key; returns False when it was already erased or never existed."""
        ...


# One round trip whether the key is new or not: the no-op update makes the row come back.
_KEY = """
insert into subject_keys (subject_id, key) values ($1, $2)
on conflict (subject_id) do update set subject_id = excluded.subject_id
returning key
"""


class PgKeyStore:
    """The subject keys, in a database of their own."""

    def __init__(self, pool: asyncpg.Pool, acquire_seconds: float = ACQUIRE_SECONDS) -> None:
        self._pool = pool
        self._acquire_seconds = acquire_seconds

    async def _key(self, subject_id: str, create: bool) -> bytes:
        async with self._pool.acquire(timeout=self._acquire_seconds) as conn:
            if create:
                key: bytes | None = await conn.fetchval(_KEY, subject_id, os.urandom(32))
                if key is None:
                    raise SubjectErased(f"{subject_id} has been erased")
                return key
            row = await conn.fetchrow("select key from subject_keys where subject_id = $1", subject_id)
        if row is None or row["key"] is None:
            raise SubjectErased(f"{subject_id} has been erased" if row else f"{subject_id} is unknown")
        found: bytes = row["key"]
        return found

    async def seal(self, subject_id: str, values: Mapping[str, str]) -> dict[str, Sealed]:
        """Seal several values of one subject (creating the subject's key on first use)."""
        key = await self._key(subject_id, create=True)
        return {name: seal_with(key, subject_id, text) for name, text in values.items()}

    async def open(self, sealed: Sealed) -> str | None:
        """The clear value, or None when its subject has been erased."""
        try:
            key = await self._key(sealed.subject_id, create=False)
        except SubjectErased:
            return None
        return open_with(key, sealed)

    async def erase(self, subject_id: str, erased_by: str) -> bool:
        """Destroy a subject's key; returns False when it was already erased or never existed."""
        async with self._pool.acquire(timeout=self._acquire_seconds) as conn:
            result: str = await conn.execute(
                "update subject_keys set key = null, erased_at = now(), erased_by = $2"
                " where subject_id = $1 and key is not null",
                subject_id,
                erased_by,
            )
        return result.endswith(" 1")


class MemoryKeyStore:
    """Subject keys in memory, for in-process tests; the same promises as the key store database."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {}

    async def seal(self, subject_id: str, values: Mapping[str, str]) -> dict[str, Sealed]:
        """Seal several values of one subject (creating the subject's key on first use)."""
        key = self.keys.setdefault(subject_id, os.urandom(32))
        if key is None:
            raise SubjectErased(f"{subject_id} has been erased")
        return {name: seal_with(key, subject_id, text) for name, text in values.items()}

    async def open(self, sealed: Sealed) -> str | None:
        """The clear value, or None when its subject has been erased."""
        key = self.keys.get(sealed.subject_id)
        return None if key is None else open_with(key, sealed)

    async def erase(self, subject_id: str, erased_by: str) -> bool:
        """Destroy a subject's key; returns False when it was already erased or never existed."""
        if self.keys.get(subject_id) is None:
            return False
        self.keys[subject_id] = None
        return True
