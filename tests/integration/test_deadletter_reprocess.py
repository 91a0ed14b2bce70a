"""A record a real consumer put aside is sent back once it is fixed, and applied once, however often asked.

The consumer is the services' own (IdempotentConsumer, subscribed on the real broker, its dead
letters sealed as every service seals them); it refuses one record at first and, "fixed",
accepts it after. `appointments deadletter list` shows the dead letter by its headers only,
`reprocess` opens it with the deployment key and republishes it to its topic; the second time
nothing is sent.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from cli.deadletter_records import DeadLetter, read_deadletters
from schemas.envelope import Envelope
from services.common import kafka
from services.common.config import Settings
from services.common.consumer import IdempotentConsumer, PoisonRecord, Position
from services.common.deadletters import DeadLetterSeal, sealing
from tests.integration.test_idempotent_consumer import private_topic, publish_all
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.integration
APPOINTMENTS = Path(sys.executable).with_name("appointments")
MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]
NAME = "Zebedee Quartermaine"  # carried in the record's value: it must never be listed


def envelope(n: int) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), event_type="Counted", schema_version=1, source="urn:test",
        subject=f"counter-{n}", time=datetime.now(UTC), correlation_id=str(uuid.uuid4()),
        data={"n": n, "caller": NAME},
    )  # fmt: skip


class FixedLater:
    """An apply that refuses n = 13 until it is fixed, then counts it like any other."""

    def __init__(self) -> None:
        self.fixed = False

    async def __call__(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        if env.data["n"] == 13 and not self.fixed:
            raise PoisonRecord("n: thirteen is not handled yet")
        await conn.execute("insert into counted (event_id, n) values ($1, $2)", env.event_id, env.data["n"])


def appointments(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APPOINTMENTS), *args], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "250"}, timeout=120, check=False,
    )  # fmt: skip


async def counted(pool: asyncpg.Pool) -> list[int]:
    return [r["n"] for r in await pool.fetch("select n from counted order by n")]


async def wait_until(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("never happened")


async def letters_of(settings: Settings, consumer: str) -> list[DeadLetter]:
    return [d for d in await read_deadletters(settings) if d.header("dlq_consumer") == consumer]


async def test_a_fixed_consumer_gets_its_dead_letter_back_once(
    fresh_database: MakeDb, test_settings: Settings
) -> None:
    pool = await fresh_database("dlq_reprocess")
    await pool.execute("create table counted (event_id uuid, n int)")
    name = f"fixed-later-{uuid.uuid4().hex[:6]}"
    apply = FixedLater()
    prefix = test_settings.topic_prefix
    broker = kafka.make_broker(test_settings.kafka_bootstrap, name)
    publish = sealing(kafka.publisher(broker, prefix), DeadLetterSeal(test_settings.deadletter_secret()))
    consumer = IdempotentConsumer(name, pool, apply, publish)
    async with private_topic(test_settings) as topic:
        kafka.subscribe(broker, topic, consumer, prefix, test_settings.db_suffix)
        await broker.start()
        try:
            poison = envelope(13)
            records = [(b"k", e.kafka_value(), e.kafka_headers()) for e in (envelope(1), poison, envelope(2))]
            await publish_all(test_settings, topic, records)

            async def put_aside() -> bool:
                return await counted(pool) == [1, 2] and len(await letters_of(test_settings, name)) == 1

            await wait_until(put_aside)
            (letter,) = await letters_of(test_settings, name)
            assert letter.header("ce_id") == str(poison.event_id)
            assert NAME.encode() not in letter.value  # sealed

            listed = appointments("deadletter", "list", "--consumer", name)
            assert listed.returncode == 0, listed.stderr
            assert letter.id in listed.stdout and "thirteen is not handled yet" in listed.stdout
            assert f"{prefix}{topic}" in listed.stdout and "Counted" in listed.stdout
            assert "Quartermaine" not in listed.stdout + listed.stderr

            apply.fixed = True
            sent = appointments("deadletter", "reprocess", "--id", letter.id)
            assert sent.returncode == 0, sent.stdout + sent.stderr
            assert "1 sent, 0 already reprocessed, 0 refused" in sent.stdout

            async def applied() -> bool:
                return await counted(pool) == [1, 2, 13]

            await wait_until(applied)
            for again in (("--id", letter.id), ("--all", "--consumer", name)):
                done = appointments("deadletter", "reprocess", *again)
                assert done.returncode == 0, done.stdout + done.stderr
                assert "0 sent, 1 already reprocessed, 0 refused" in done.stdout
            await asyncio.sleep(2)  # anything sent twice would have been applied by now
            assert await counted(pool) == [1, 2, 13]
            on_topic = await read_topic(test_settings.kafka_bootstrap, f"{prefix}{topic}", at_least=4)
            republished = [r for r in on_topic if dict(r.headers)["ce_id"] == str(poison.event_id).encode()]
            assert len(republished) == 2  # the original and one copy sent back
            assert all(not k.startswith("dlq_") for k, _ in republished[1].headers)
            assert republished[1].value == republished[0].value and republished[1].key == b"k"
            listed = appointments("deadletter", "list", "--consumer", name)
            (row,) = [line for line in listed.stdout.splitlines() if f" {letter.id} " in line]
            assert datetime.now(UTC).strftime("%Y-%m-%dT") in row  # when it was reprocessed
        finally:
            await broker.stop()
