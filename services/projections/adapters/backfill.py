"""Index the diary days of the booking events recorded before ``diary_days`` existed, once."""

from __future__ import annotations

import json

import asyncpg

from schemas.base import parse_event
from services.common.logging import get_logger
from services.projections.adapters.batch import write_days
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.diary_days import Fact, fold

log = get_logger(__name__)
CHUNK = 2000


async def index_recorded_days(conn: asyncpg.Connection) -> int:
    """Fold the recorded booking events into ``diary_days`` if still pending; returns how many."""
    async with conn.transaction():
        # Taking the marker row locks out a second process until this one has committed.
        if not await conn.fetchval("delete from diary_days_backfill returning true"):
            return 0
        entries: dict[str, DiaryEntry] = {}
        cursor = await conn.cursor(
            "select appointment_id, event_id, occurred_at, event_type, schema_version, data"
            " from event_history where appointment_id is not null and topic like '%booking.events'"
            ' order by partition, "offset"'
        )
        count = 0
        while rows := await cursor.fetch(CHUNK):
            facts = [
                Fact(
                    r["appointment_id"],
                    r["event_id"],
                    r["occurred_at"],
                    parse_event(r["event_type"], r["schema_version"], json.loads(r["data"])),
                )
                for r in rows
            ]
            await write_days(conn, fold(entries, facts).days)
            count += len(rows)
    log.info("diary days indexed from the recorded history", events=count)
    return count
