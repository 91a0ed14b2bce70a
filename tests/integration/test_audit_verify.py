"""`appointments audit verify` on a real event store tampered with by someone holding the owner's rights.

The events table refuses updates and deletes (a trigger); the owner can switch the trigger off,
which is exactly the tampering the chain must show: each case edits a fresh database that way,
and the command exits non-zero naming the first bad event.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from schemas.envelope import Envelope
from services.common.chain_reader import verify_database
from services.common.config import Settings
from services.common.eventstore import Outgoing, StreamAppend, append_streams

pytestmark = pytest.mark.integration
APPOINTMENTS = Path(sys.executable).with_name("appointments")
STREAMS = ("station:stevenage:2027-02-03", "station:hatfield:2027-02-03", "diary-car:dacorum:2027-02-04")
MakeDatabase = Callable[[str], Awaitable[asyncpg.Pool]]


def envelope(stream: str, n: int) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), event_type="SlotBooked", schema_version=1, source="urn:test", subject=stream,
        time=datetime(2027, 2, 1, 9, 0, 0, 123456, tzinfo=UTC) + timedelta(minutes=n),
        correlation_id=f"corr-{n}", causation_id=None, actor="call-taker:4021",
        data={"appointment_id": f"appt-{n}", "room_id": "room-1", "price": 1.5, "flags": ["x", "ü"]},
    )  # fmt: skip


async def stored_streams(pool: asyncpg.Pool, events_each: int = 5) -> None:
    """Each stream appended as the services append: one event at a time, chained."""
    async with pool.acquire() as conn:
        for stream in STREAMS:
            prev = None
            for version in range(events_each):
                out = Outgoing(envelope(stream, version), "booking.events", stream)
                (done,) = await append_streams(conn, [StreamAppend(stream, version, prev, [out])])
                prev = done.hash


async def tamper(pool: asyncpg.Pool, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Run statements as the owner with the append-only trigger off, then put it back."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("alter table events disable trigger user")
        for sql, args in statements:
            await conn.execute(sql, *args)
        await conn.execute("alter table events enable trigger user")


async def event_id(pool: asyncpg.Pool, stream: str, version: int) -> str:
    return str(await pool.fetchval("select event_id from events where stream_id = $1 and version = $2",
                                   stream, version))  # fmt: skip


async def flip_a_byte(pool: asyncpg.Pool) -> tuple[str, int]:
    stream = STREAMS[1]
    data: str = await pool.fetchval(
        "select data::text from events where stream_id = $1 and version = 3", stream
    )
    flipped = data.replace("room-1", "room-7", 1)
    assert flipped != data
    await tamper(pool, ("update events set data = $2::jsonb where stream_id = $1 and version = 3",
                        (stream, flipped)))  # fmt: skip
    return stream, 3


async def delete_a_row(pool: asyncpg.Pool) -> tuple[str, int]:
    stream = STREAMS[0]
    await tamper(pool, ("delete from outbox where event_id in (select event_id from events"
                        " where stream_id = $1 and version = 2)", (stream,)),
                 ("delete from events where stream_id = $1 and version = 2", (stream,)))  # fmt: skip
    return stream, 3  # the gap is named by the event after it


async def swap_two_rows(pool: asyncpg.Pool) -> tuple[str, int]:
    stream = STREAMS[2]
    move = "update events set version = $3 where stream_id = $1 and version = $2"
    await tamper(pool, (move, (stream, 3, 1000)), (move, (stream, 4, 3)), (move, (stream, 1000, 4)))
    return stream, 3


async def run_verify(database: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    """The command itself, as an operator runs it, on one database of this test run."""
    name = database.removesuffix(settings.db_suffix)
    return subprocess.run(  # noqa: ASYNC221 - the command under test, run whole
        [str(APPOINTMENTS), "audit", "verify", "--database", name],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120, check=False,
    )  # fmt: skip


async def test_untouched_chains_verify_and_every_event_is_counted(
    fresh_database: MakeDatabase, test_settings: Settings
) -> None:
    pool = await fresh_database("audit")
    await stored_streams(pool)
    database: str = await pool.fetchval("select current_database()")
    done = await run_verify(database, test_settings)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "15 events checked: every chain holds" in done.stdout


@pytest.mark.parametrize("how", [flip_a_byte, delete_a_row, swap_two_rows], ids=lambda f: f.__name__)
async def test_tampering_exits_non_zero_naming_the_first_bad_event(
    fresh_database: MakeDatabase,
    test_settings: Settings,
    how: Callable[[asyncpg.Pool], Awaitable[tuple[str, int]]],
) -> None:
    pool = await fresh_database("audit")
    await stored_streams(pool)
    database: str = await pool.fetchval("select current_database()")
    stream, version = await how(pool)
    bad = await event_id(pool, stream, version)

    report = await verify_database(test_settings.database_url(database.removesuffix(test_settings.db_suffix)),
                                   "audit")  # fmt: skip
    assert [(b.stream_id, b.version, b.event_id) for b in report.breaks] == [(stream, version, bad)]
    done = await run_verify(database, test_settings)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"stream {stream} version {version} (event {bad})" in done.stdout
