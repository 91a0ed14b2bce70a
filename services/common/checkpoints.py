"""Signed checkpoints: each database's chain heads, signed with Ed25519, kept outside the databases.

A chain shows an edited, removed or swapped event by itself, but not a tail cut off or hashed
again by someone with the owner's rights: the chain that remains is well made. A checkpoint
records where every stream ended (version, event id, hash) when a walk found all well, signed
with a key the database never sees, in a folder an operator can keep on another machine
(``APPOINTMENTS_CHECKPOINT_DIR``, default ``<state>/checkpoints``). A later walk must find each
signed head still there with the same hash.

Made on demand (``appointments audit checkpoint``) and periodically by each service for its own
database (``keep_signing``, every ``APPOINTMENTS_CHECKPOINT_EVERY_SECONDS``, 900 by default; 0 never):
one file per database and time, which ``latest_heads`` finds whichever process wrote it.

Keys: ``APPOINTMENTS_CHECKPOINT_SIGNING_KEY`` (PEM) when set; else the pair in
``APPOINTMENTS_CHECKPOINT_KEYS_DIR`` (default ``<state>/checkpoint-keys``: ``signing-key.pem``,
mode 0600, and ``public-key.pem``), made on first use outside production only. Checking needs
only the public key (``APPOINTMENTS_CHECKPOINT_PUBLIC_KEY``, PEM, or the folder's).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common import metrics
from services.common.chain_reader import FETCH, link_of
from services.common.chains import Break, ChainWalk, Head, StoredLink
from services.common.config import Settings
from services.common.eventstore import canonical_json
from services.common.logging import get_logger
from services.common.token_keys import PUBLIC_KEY, SIGNING_KEY, ensure_local_keys, key_id

log = get_logger(__name__)
FORMAT = "station-appointments/checkpoint/1"
_PREFIX = "checkpoint-"


class CheckpointSettings(BaseSettings):
    """Where checkpoints and their keys are; every field overridable by env (APPOINTMENTS_...)."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_", extra="ignore")

    checkpoint_dir: Path | None = None
    checkpoint_keys_dir: Path | None = None
    checkpoint_signing_key: SecretStr | None = None
    checkpoint_public_key: str | None = None
    # How often each service signs its own database's heads (0: only on demand, from the CLI).
    checkpoint_every_seconds: float = Field(default=900.0, ge=0)


class CheckpointInvalid(Exception):
    """A checkpoint file that cannot be read, or whose signature is not the audit key's."""


@dataclass(frozen=True)
class Checkpoint:
    """Signed heads per database, when they were signed, and the file they came from."""

    made_at: datetime
    heads: dict[str, dict[str, Head]]
    path: Path | None = None


def folder(cfg: Settings, audit: CheckpointSettings) -> Path:
    """The checkpoint folder."""
    return audit.checkpoint_dir or cfg.state_dir / "checkpoints"


def signing_key(cfg: Settings, audit: CheckpointSettings) -> Ed25519PrivateKey:
    """The key checkpoints are signed with (made in the state folder on first use, never in production)."""
    if audit.checkpoint_signing_key is not None:
        pem = audit.checkpoint_signing_key.get_secret_value().encode()
    else:
        keys = audit.checkpoint_keys_dir or cfg.state_dir / "checkpoint-keys"
        if cfg.is_production and not (keys / SIGNING_KEY).exists():
            raise RuntimeError(
                f"no checkpoint signing key: set APPOINTMENTS_CHECKPOINT_SIGNING_KEY or provide {keys}"
            )
        ensure_local_keys(keys)
        pem = (keys / SIGNING_KEY).read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError("the checkpoint signing key is not an Ed25519 key")
    return key


def public_key(cfg: Settings, audit: CheckpointSettings) -> Ed25519PublicKey:
    """The key a checkpoint's signature must verify with."""
    if audit.checkpoint_public_key:
        key = serialization.load_pem_public_key(audit.checkpoint_public_key.encode())
    elif audit.checkpoint_signing_key is not None:
        key = signing_key(cfg, audit).public_key()
    else:
        keys = audit.checkpoint_keys_dir or cfg.state_dir / "checkpoint-keys"
        if not (keys / PUBLIC_KEY).exists():
            signing_key(cfg, audit)  # the pair is made on first use (outside production)
        key = serialization.load_pem_public_key((keys / PUBLIC_KEY).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise RuntimeError("the checkpoint public key is not an Ed25519 key")
    return key


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def signed_document(
    heads: Mapping[str, Mapping[str, Head]], key: Ed25519PrivateKey, made_at: datetime
) -> bytes:
    """The checkpoint file's bytes: the body (format, time, key id, heads) and its signature."""
    body = {
        "format": FORMAT,
        "made_at": made_at.astimezone(UTC).isoformat(),
        "key_id": key_id(_public_pem(key.public_key())),
        "databases": {
            database: {stream: [h.version, h.event_id, h.hash.hex()] for stream, h in sorted(streams.items())}
            for database, streams in sorted(heads.items())
        },
    }
    signature = key.sign(canonical_json(body).encode())
    return json.dumps({"body": body, "signature": base64.b64encode(signature).decode()}, indent=1).encode()


def read_document(raw: bytes, key: Ed25519PublicKey, path: Path | None = None) -> Checkpoint:
    """A checkpoint from its file's bytes; CheckpointInvalid unless the audit key signed exactly it."""
    try:
        document: dict[str, Any] = json.loads(raw)
        body, signature = document["body"], base64.b64decode(document["signature"], validate=True)
        key.verify(signature, canonical_json(body).encode())
        if body["format"] != FORMAT:
            raise ValueError(f"unknown format {body['format']!r}")
        heads = {
            database: {
                stream: Head(int(v), str(e), bytes.fromhex(h)) for stream, (v, e, h) in streams.items()
            }
            for database, streams in body["databases"].items()
        }
        return Checkpoint(datetime.fromisoformat(body["made_at"]), heads, path)
    except InvalidSignature as exc:
        raise CheckpointInvalid(f"{path or 'checkpoint'}: its signature is not the audit key's") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointInvalid(f"{path or 'checkpoint'} cannot be read: {exc}") from exc


def write(where: Path, document: bytes, made_at: datetime) -> Path:
    """Put a checkpoint into the folder whole (a reader never sees half a file); its path."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{_PREFIX}{made_at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}.json"
    handle, draft = tempfile.mkstemp(dir=where, prefix=".draft-")
    with os.fdopen(handle, "wb") as out:
        out.write(document)
    os.chmod(draft, 0o644)  # heads and hashes only: no personal data, meant to be copied away
    os.replace(draft, path)
    return path


def newest_first(where: Path) -> list[Path]:
    """The folder's checkpoint files, the latest first (their names sort by time)."""
    return sorted(where.glob(f"{_PREFIX}*.json"), reverse=True) if where.is_dir() else []


def latest_heads(where: Path, key: Ed25519PublicKey, databases: list[str]) -> dict[str, Checkpoint]:
    """For each database, the latest checkpoint that signed its heads (raises CheckpointInvalid)."""
    found: dict[str, Checkpoint] = {}
    for path in newest_first(where):
        checkpoint = read_document(path.read_bytes(), key, path)
        for database in databases:
            if database in checkpoint.heads:
                found.setdefault(database, checkpoint)
        if len(found) == len(databases):
            break
    return found


# --- Periodic checkpoints: each service signs its own database's heads -------------------------

# Session advisory lock of the process signing a database's checkpoint (one at a time per database).
_SIGNING_LOCK = 0x63686B70  # "chkp"
_LINKS = (
    "select stream_id, version, position, event_id, event_type, schema_version, data::text as data,"
    " correlation_id, causation_id, actor, occurred_at, prev_hash, hash"
    " from events order by stream_id, version"
)


@dataclass(frozen=True)
class Signing:
    """What a periodic checkpoint of one database needs: where, with which keys, how often."""

    database: str
    folder: Path
    key: Ed25519PrivateKey
    every: float


def periodic(database: str, cfg: Settings, audit: CheckpointSettings | None = None) -> Signing | None:
    """How a service signs its own database periodically; None when it does not.

    Not with ``APPOINTMENTS_CHECKPOINT_EVERY_SECONDS=0``; nor for databases with a suffix (tests
    and benchmarks beside a live stack) unless ``APPOINTMENTS_CHECKPOINT_DIR`` is set: their heads
    would go into the live stack's folder under the live databases' names. Without a signing key
    (production, none configured) it says so and signs nothing: the service still serves.
    """
    audit = audit or CheckpointSettings()
    if audit.checkpoint_every_seconds <= 0 or (cfg.db_suffix and audit.checkpoint_dir is None):
        return None
    try:
        key = signing_key(cfg, audit)
    except Exception as exc:  # a key missing, unreadable or of another kind: the service serves on
        log.error(
            "no periodic checkpoints: the signing key cannot be read", database=database, error=str(exc)
        )
        return None
    return Signing(database, folder(cfg, audit), key, audit.checkpoint_every_seconds)


def _latest(signing: Signing) -> Checkpoint | None:
    found = latest_heads(signing.folder, signing.key.public_key(), [signing.database])
    return found.get(signing.database)


def _due_in(latest: Checkpoint | None, every: float, now: datetime) -> float:
    """Seconds until the next checkpoint is due (0 or less: now)."""
    return 0.0 if latest is None else every - (now - latest.made_at).total_seconds()


async def _walk(conn: asyncpg.Connection, walk: ChainWalk) -> None:
    """Feed every stored event to the walk: one snapshot, a read-only transaction (writers go on)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        batch: list[StoredLink] = []
        async for row in conn.cursor(_LINKS, prefetch=FETCH):
            batch.append(link_of(row))
            if len(batch) >= FETCH:
                # The hashing off the event loop, so the service's requests and records go on.
                await asyncio.to_thread(walk.feed, batch)
                batch = []
        if batch:
            await asyncio.to_thread(walk.feed, batch)


async def sign_if_due(pool: asyncpg.Pool, signing: Signing) -> tuple[Path | None, float]:
    """Walk the database and sign its heads when a checkpoint is due and every chain holds.

    Returns the new checkpoint's path (None: not due, another process signing, nothing appended
    since the last one, or a chain broken) and the seconds until the next is due. One process at
    a time signs a database (a session advisory lock); it looks again once it holds the lock, so
    a service's several workers sign once a period between them.
    """
    latest = await asyncio.to_thread(_latest, signing)
    wait = _due_in(latest, signing.every, datetime.now(UTC))
    if wait > 0:
        return None, wait
    async with pool.acquire() as conn:
        if not await conn.fetchval("select pg_try_advisory_lock($1)", _SIGNING_LOCK):
            return None, signing.every
        try:
            latest = await asyncio.to_thread(_latest, signing)
            wait = _due_in(latest, signing.every, datetime.now(UTC))
            if wait > 0:
                return None, wait
            signed = latest.heads[signing.database] if latest is not None else None
            walk = ChainWalk(signing.database, signed)
            made_at = datetime.now(UTC)
            await _walk(conn, walk)
            breaks = walk.finish()
        finally:
            await conn.execute("select pg_advisory_unlock($1)", _SIGNING_LOCK)
    metrics.CHECKPOINT_BROKEN.labels(signing.database).set(len(breaks))
    if breaks:
        _report(signing.database, breaks, walk.checked)
        return None, signing.every
    metrics.CHECKPOINT_HELD.labels(signing.database).set(made_at.timestamp())
    if latest is not None and walk.heads == latest.heads[signing.database]:
        return None, signing.every  # nothing appended since: the last checkpoint still says it all
    document = signed_document({signing.database: walk.heads}, signing.key, made_at)
    path = await asyncio.to_thread(write, signing.folder, document, made_at)
    log.info("checkpoint signed", database=signing.database, streams=len(walk.heads), events=walk.checked)
    return path, signing.every


def _report(database: str, breaks: list[Break], checked: int) -> None:
    first = breaks[0]
    log.error(
        "chains broken: no checkpoint signed",
        database=database, broken_streams=len(breaks), events_checked=checked,
        first_stream=first.stream_id, first_version=first.version, why=first.why,
    )  # fmt: skip


async def keep_signing(pool: asyncpg.Pool, signing: Signing) -> None:
    """Sign the database's heads each period until cancelled; a failure is tried again next period."""
    while True:
        try:
            _, wait = await sign_if_due(pool, signing)
        except asyncio.CancelledError:
            raise
        except CheckpointInvalid as exc:
            log.error("no periodic checkpoint: the latest one is not the audit key's", error=str(exc))
            wait = signing.every
        except Exception as exc:
            log.warning(
                "no periodic checkpoint this time", database=signing.database, error=type(exc).__name__
            )
            wait = min(signing.every, 60.0)
        await asyncio.sleep(max(wait, 1.0))
