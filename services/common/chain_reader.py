"""Read a service's stored events back for the chain walk: one snapshot, streamed, as the owner."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import asyncpg

from schemas.envelope import Envelope
from services.common.chains import Break, ChainWalk, Head, StoredLink
from services.common.eventstore import canonical_json

_LINKS = (
    "select stream_id, version, position, event_id, event_type, schema_version, data::text as data,"
    " correlation_id, causation_id, actor, occurred_at, prev_hash, hash"
    " from events order by stream_id, version"
)
# Rows fetched per round trip while walking: a million events stream through in bounded memory.
FETCH = 2000


@dataclass
class DatabaseReport:
    """What one database's walk found: how many events, where each stream ends, what broke."""

    database: str
    found: bool = True
    checked: int = 0
    breaks: list[Break] = field(default_factory=list)
    heads: dict[str, Head] = field(default_factory=dict)


def link_of(row: Mapping[str, Any]) -> StoredLink:
    """A stored row as a chain link (the data re-serialised in the canonical form it was hashed in)."""
    data: Any = row["data"]
    parsed = json.loads(data) if isinstance(data, str) else data
    # Built without validation: the walk hashes what is stored, exactly as it is stored.
    envelope = Envelope.model_construct(
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        source="",
        subject=row["stream_id"],
        time=row["occurred_at"].astimezone(UTC),
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        actor=row["actor"],
        data=parsed,
    )
    return StoredLink(
        row["stream_id"], row["version"], row["position"], envelope, canonical_json(parsed),
        None if row["prev_hash"] is None else bytes(row["prev_hash"]), bytes(row["hash"]),
    )  # fmt: skip


async def _batches(conn: asyncpg.Connection) -> AsyncIterator[list[StoredLink]]:
    batch: list[StoredLink] = []
    async for row in conn.cursor(_LINKS, prefetch=FETCH):
        batch.append(link_of(row))
        if len(batch) >= FETCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def verify_database(
    url: str,
    database: str,
    signed: Mapping[str, Head] | None = None,
    on_total: Callable[[int], None] = lambda _: None,
    on_checked: Callable[[int], None] = lambda _: None,
) -> DatabaseReport:
    """Walk every stream of the events table at ``url`` (one consistent snapshot); the report."""
    walk = ChainWalk(database, signed)
    try:
        conn = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError:
        # Gone: nothing to walk, and every head a checkpoint signed in it is missing.
        return DatabaseReport(database, found=False, breaks=walk.finish())
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            if not await conn.fetchval("select to_regclass('public.events') is not null"):
                return DatabaseReport(database, found=False, breaks=walk.finish())
            on_total(await conn.fetchval("select count(*) from events"))
            async for batch in _batches(conn):
                walk.feed(batch)
                on_checked(len(batch))
    finally:
        await conn.close()
    breaks = walk.finish()
    return DatabaseReport(database, True, walk.checked, breaks, walk.heads)
