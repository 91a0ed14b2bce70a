"""The roster's capacity facts as the availability model keeps them, read for a range of time.

Free places (availability) and the places offered (the KPIs' use of capacity) are both worked out
from these by booking's own rule; one reading serves both.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.booking.adapters.roster_facts import Withdrawn
from services.projections.domain.availability import Duty


async def duties_and_withdrawals(
    conn: asyncpg.Connection, since: datetime, until: datetime, district_id: str | None = None
) -> tuple[list[Duty], list[Withdrawn]]:
    """The capacity duties overlapping [since, until) (a district's, or every one), and their
    officers' withdrawals over it: what booking's own rule works free places out from."""
    duties = [
        Duty(**dict(r))
        for r in await conn.fetch(
            "select duty_id, officer_id, duty, station_id, district_id, starts_at, ends_at"
            " from availability_duties where starts_at < $2 and ends_at > $1"
            " and ($3::text is null or district_id = $3)",
            since,
            until,
            district_id,
        )
    ]
    withdrawn = [
        Withdrawn(r["officer_id"], r["starts_at"], r["ends_at"])
        for r in await conn.fetch(
            "select officer_id, starts_at, ends_at from availability_withdrawals"
            " where officer_id = any($1::text[]) and starts_at < $3 and ends_at > $2"
            " order by officer_id, starts_at, ends_at",
            sorted({d.officer_id for d in duties}),
            since,
            until,
        )
    ]
    return duties, withdrawn
