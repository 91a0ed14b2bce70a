"""Index the diary days of the booking events already recorded, once, when a migration asks.

The migration that made ``diary_days`` asks for it, and so does one that changed how a day is
named (a diary car's day by its district): the marker row ``diary_days_backfill``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg
from pydantic import ValidationError

from schemas.base import parse_event
from services.common.logging import get_logger
from services.projections.adapters.batch import write_days
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.diary_days import Fact, fold

log = get_logger(__name__)
CHUNK = 2000


def _facts(rows: Sequence[asyncpg.Record], unreadable: list[str]) -> list[Fact]:
    facts = []
    for r in rows:
        try:
            event = parse_event(r["event_type"], r["schema_version"], json.loads(r["data"]))
        except (ValueError, ValidationError):
            # Not worth keeping the whole service down for: the as-at diary cannot read it either.
            unreadable.append(r["event_type"])
            continue
        facts.append(Fact(r["appointment_id"], r["event_id"], r["occurred_at"], event))
    return facts


async def index_recorded_days(conn: asyncpg.Connection) -> int:
    """Fold the recorded booking events into ``diary_days`` if still pending; returns how many."""
    async with conn.transaction():
        # Taking the marker row locks out a second process until this one has committed.
        if not await conn.fetchval("delete from diary_days_backfill returning true"):
            return 0
        entries: dict[str, DiaryEntry] = {}
        unreadable: list[str] = []
        cursor = await conn.cursor(
            "select appointment_id, event_id, occurred_at, event_type, schema_version, data"
            " from event_history where appointment_id is not null and topic like '%booking.events'"
            ' order by partition, "offset"'
        )
        count = 0
        while rows := await cursor.fetch(CHUNK):
            await write_days(conn, fold(entries, _facts(rows, unreadable)).days)
            count += len(rows)
    if unreadable:
        log.warning(
            "recorded events the diary cannot read", types=sorted(set(unreadable)), count=len(unreadable)
        )
    log.info("diary days indexed from the recorded history", events=count)
    return count
