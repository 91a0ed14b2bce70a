"""The database backs the decider up: no room and no officer can be held twice at once."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest
from asyncpg import Range

from services.common.config import Settings
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration
SPAN = Range(datetime(2027, 9, 1, 17, tzinfo=UTC), datetime(2027, 9, 1, 18, tzinfo=UTC))
OVERLAP = Range(datetime(2027, 9, 1, 17, 30, tzinfo=UTC), datetime(2027, 9, 1, 18, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("table", "columns", "first", "second"),
    [
        ("room_holds", "appointment_id, station_id, room_id, during",
         ("bk-1", "watford", "watford-room-1", SPAN), ("bk-2", "watford", "watford-room-1", OVERLAP)),
        ("officer_holds", "appointment_id, officer_id, during",
         ("bk-3", "officer-x", SPAN), ("bk-4", "officer-x", OVERLAP)),
    ],
)  # fmt: skip
async def test_an_overlapping_second_hold_is_refused_by_the_database(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    table: str,
    columns: str,
    first: tuple[object, ...],
    second: tuple[object, ...],
) -> None:
    conn = await asyncpg.connect(test_settings.database_url("booking"))
    try:
        marks = ", ".join(f"${i + 1}" for i in range(len(first)))
        async with conn.transaction():
            await conn.execute(f"insert into {table} ({columns}) values ({marks})", *first)
            with pytest.raises(asyncpg.ExclusionViolationError):
                await conn.execute(f"insert into {table} ({columns}) values ({marks})", *second)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()


class _Rollback(Exception):
    """Leaves the test's rows out of the shared booking database."""
