"""The roster's copy of the county's reference data: one row per county, the newest version wins."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from schemas.reference import CountyReferenceLoaded
from services.common.reference import County


@dataclass(frozen=True)
class CountyInForce:
    """A version of the county's reference data as booking recorded it, and its fingerprint."""

    county: County
    sha256: str
    loaded_at: datetime


async def keep(conn: asyncpg.Connection, event_id: uuid.UUID, loaded: CountyReferenceLoaded) -> bool:
    """Keep a version unless a newer one is already kept; returns whether it is now the one in force."""
    taken: bool | None = await conn.fetchval(
        "insert into county_reference (county_id, sha256, document, loaded_at, event_id)"
        " values ($1, $2, $3::jsonb, $4, $5)"
        " on conflict (county_id) do update set sha256 = excluded.sha256, document = excluded.document,"
        " loaded_at = excluded.loaded_at, event_id = excluded.event_id"
        " where county_reference.loaded_at < excluded.loaded_at"
        " returning true",
        loaded.county_id,
        loaded.sha256,
        json.dumps(loaded.document),
        loaded.loaded_at,
        event_id,
    )
    return bool(taken)


async def in_force(conn: asyncpg.Connection) -> CountyInForce | None:
    """The newest version kept, if any has reached the roster."""
    row = await conn.fetchrow(
        "select sha256, document::text as document, loaded_at from county_reference"
        " order by loaded_at desc limit 1"
    )
    if row is None:
        return None
    county = County.model_validate(json.loads(row["document"]))
    return CountyInForce(county, row["sha256"], row["loaded_at"])
