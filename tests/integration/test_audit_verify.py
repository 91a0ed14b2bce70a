"""`appointments audit verify` on a real event store tampered with by someone holding the owner's rights.

The events table refuses updates and deletes (a trigger); the owner can switch the trigger off,
which is exactly the tampering the chain must show: each case signs a checkpoint of a fresh
database (`appointments audit checkpoint`), edits it that way, and the command exits non-zero
naming the first bad event. A tail cut off or hashed again leaves a well-made chain: only the
signed heads show it.
"""

from __future__ import annotations

import json
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
from services.common.chain_reader import link_of, verify_database
from services.common.chains import Head
from services.common.checkpoints import CheckpointSettings, latest_heads, newest_first, public_key
from services.common.config import Settings, settings
from services.common.eventstore import Outgoing, StreamAppend, append_streams, chain_hash

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


async def event_id(pool: asyncpg.Pool, stream: str, version: int) -> str | None:
    """The id of the event now stored at (stream, version); None when there is none."""
    found = await pool.fetchval(
        "select event_id from events where stream_id = $1 and version = $2", stream, version
    )
    return None if found is None else str(found)


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


async def cut_the_tail(pool: asyncpg.Pool) -> tuple[str, int]:
    stream = STREAMS[0]
    await tamper(pool, ("delete from outbox where event_id in (select event_id from events"
                        " where stream_id = $1 and version >= 4)", (stream,)),
                 ("delete from events where stream_id = $1 and version >= 4", (stream,)))  # fmt: skip
    return stream, 4  # the first version gone


async def re_chain_the_tail(pool: asyncpg.Pool) -> tuple[str, int]:
    """Edit version 4 and hash it and version 5 again, as someone who knows the algorithm would."""
    stream = STREAMS[1]
    rows = await pool.fetch(
        "select stream_id, version, position, event_id, event_type, schema_version, data::text as data,"
        " correlation_id, causation_id, actor, occurred_at, prev_hash, hash from events"
        " where stream_id = $1 and version >= 4 order by version",
        stream,
    )
    fourth, fifth = (link_of(r) for r in rows)
    edited = fourth.envelope.model_copy(update={"data": {**fourth.envelope.data, "room_id": "room-9"}})
    h4 = chain_hash(fourth.prev_hash, edited, 4)
    h5 = chain_hash(h4, fifth.envelope, 5)
    rewrite = (
        "update events set data = $3::jsonb, prev_hash = $4, hash = $5 where stream_id = $1 and version = $2"
    )
    await tamper(pool, (rewrite, (stream, 4, json.dumps(edited.data), fourth.prev_hash, h4)),
                 (rewrite, (stream, 5, fifth.data_json, h4, h5)))  # fmt: skip
    assert (await verify_database(await pool_url(pool), "audit")).breaks == []  # well made by itself
    return stream, 5  # the signed head whose hash no longer matches


async def pool_url(pool: asyncpg.Pool) -> str:
    """The owner's URL of the database a pool serves."""
    return f"{settings().pg_url.rstrip('/')}/{await pool.fetchval('select current_database()')}"


def appointments(*args: str) -> subprocess.CompletedProcess[str]:
    """The command itself, as an operator runs it."""
    return subprocess.run(
        [str(APPOINTMENTS), *args], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200"}, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def checkpoint_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own checkpoint folder and key pair (the commands it runs read them from env)."""
    monkeypatch.setenv("APPOINTMENTS_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("APPOINTMENTS_CHECKPOINT_KEYS_DIR", str(tmp_path / "keys"))
    return tmp_path / "checkpoints"


async def name_of(pool: asyncpg.Pool, settings: Settings) -> str:
    database: str = await pool.fetchval("select current_database()")
    return database.removesuffix(settings.db_suffix)


async def test_untouched_chains_verify_and_their_heads_are_signed(
    fresh_database: MakeDatabase, test_settings: Settings, checkpoint_folders: Path
) -> None:
    pool = await fresh_database("audit")
    await stored_streams(pool)
    name = await name_of(pool, test_settings)
    done = appointments("audit", "verify", "--database", name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "15 events checked: every chain holds" in done.stdout
    assert "No signed checkpoint yet" in done.stdout

    signed = appointments("audit", "checkpoint", "--database", name)
    assert signed.returncode == 0, signed.stdout + signed.stderr
    (path,) = newest_first(checkpoint_folders)
    assert f"Signed 3 stream heads into {path}" in signed.stdout.replace("\n", "")
    key = public_key(test_settings, CheckpointSettings())
    heads = latest_heads(checkpoint_folders, key, [name])[name].heads[name]
    last = await pool.fetchrow(
        "select event_id, hash from events where stream_id = $1 and version = 5", STREAMS[2]
    )
    assert heads[STREAMS[2]] == Head(5, str(last["event_id"]), bytes(last["hash"]))

    # More events after the checkpoint are no break; the next checkpoint signs the new heads.
    async with pool.acquire() as conn:
        prev = bytes(last["hash"])
        await append_streams(
            conn, [StreamAppend(STREAMS[2], 5, prev, [Outgoing(envelope(STREAMS[2], 9), "t", "k")])]
        )
    assert appointments("audit", "verify", "--database", name).returncode == 0
    assert appointments("audit", "checkpoint", "--database", name).returncode == 0
    assert len(newest_first(checkpoint_folders)) == 2


TAMPERINGS = [flip_a_byte, delete_a_row, swap_two_rows, cut_the_tail, re_chain_the_tail]


@pytest.mark.parametrize("how", TAMPERINGS, ids=lambda f: f.__name__)
async def test_tampering_exits_non_zero_naming_the_first_bad_event(
    fresh_database: MakeDatabase,
    test_settings: Settings,
    checkpoint_folders: Path,
    how: Callable[[asyncpg.Pool], Awaitable[tuple[str, int]]],
) -> None:
    pool = await fresh_database("audit")
    await stored_streams(pool)
    name = await name_of(pool, test_settings)
    assert appointments("audit", "checkpoint", "--database", name).returncode == 0
    heads = latest_heads(checkpoint_folders, public_key(test_settings, CheckpointSettings()), [name])[name]
    signed = heads.heads[name]
    stream, version = await how(pool)
    bad = await event_id(pool, stream, version)  # a cut tail's first version has none left

    report = await verify_database(test_settings.database_url(name), name, signed)
    assert [(b.stream_id, b.version, b.event_id) for b in report.breaks] == [(stream, version, bad)]
    done = appointments("audit", "verify", "--database", name)
    assert done.returncode == 1, done.stdout + done.stderr
    named = f"event {bad}" if bad else "no event"
    assert f"stream {stream} version {version} ({named})" in done.stdout
    # A broken chain is never signed: the next checkpoint would otherwise bless the tampering.
    refused = appointments("audit", "checkpoint", "--database", name)
    assert refused.returncode == 1 and "Not signed" in refused.stdout
    assert len(newest_first(checkpoint_folders)) == 1
