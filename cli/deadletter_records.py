"""Dead letters for operators: read them (headers only), and send them back where they came from once.

A dead letter keeps the original record's key and headers and adds ``dlq_*`` headers (reason,
consumer, source topic, partition, offset); its value is the original sealed under the
deployment's dead-letter key (services.common.deadletters). Reprocessing opens the value with
that key and publishes the original record again (key, value, headers without the ``dlq_``
ones) to its source topic, where the consumer, fixed since, applies it; a consumer that applied
it already skips it by its event id.

What was sent is claimed in ``reprocessed_deadletters`` (the operators' own database) in the
transaction that sends it: a table rather than a file in the state folder because operators
work from more than one machine and the claim must be shared, and because the row's lock makes
two operators reprocessing at once send a record once. A crash after the send and before the
commit leaves no row, so the record is sent again next time: the consumers' event-id check
makes that harmless.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from cryptography.exceptions import InvalidTag

from schemas.topics import DEADLETTER
from services.common.config import Settings
from services.common.db import open_pool
from services.common.deadletters import SCHEME, SEALED_HEADER, DeadLetterSeal
from services.common.kafka import partitions_of

OPERATIONS_DATABASE = "operations"
OPERATIONS_MIGRATIONS = Path(__file__).with_name("operations_migrations")


@dataclass(frozen=True)
class DeadLetter:
    """One record of the dead-letter topic: where it is, its original key and headers, its sealed value."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @property
    def id(self) -> str:
        """The record's place on the dead-letter topic, which names it: ``partition:offset``."""
        return f"{self.partition}:{self.offset}"

    def header(self, name: str) -> str:
        """One header, decoded ('' when absent)."""
        return next((v.decode(errors="replace") for k, v in self.headers if k == name), "")

    @property
    def source_topic(self) -> str:
        """The topic the original record was read from (on the wire, with any prefix)."""
        return self.header("dlq_source_topic")

    def age(self, now: datetime) -> timedelta:
        """How long ago it was put aside."""
        return now - datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the original record carried (the ``dlq_`` ones were added when it was put aside)."""
        return [(k, v) for k, v in self.headers if not k.startswith("dlq_")]

    def original_value(self, seal: DeadLetterSeal) -> bytes:
        """The original value, opened with the deployment key; ValueError when it cannot be."""
        sealed = self.header(SEALED_HEADER)
        if not sealed:
            return self.value  # put aside before dead letters were sealed
        scheme, _, key_id = sealed.partition(":")
        if scheme != SCHEME or key_id != seal.key_id:
            raise ValueError(f"sealed as {sealed}, not under this deployment's key ({seal.key_id})")
        try:
            return seal.open(self.value, self.source_topic)
        except InvalidTag as exc:
            raise ValueError("the sealed value does not open with this deployment's key") from exc


async def read_deadletters(cfg: Settings, wait_seconds: float = 30.0) -> list[DeadLetter]:
    """Every dead letter the topic still holds (its retention is bounded), oldest first per partition."""
    topic = cfg.topic(DEADLETTER)
    partitions = sorted(TopicPartition(topic, p) for p in await partitions_of(cfg.kafka_bootstrap, topic))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=cfg.kafka_bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        # Explicit offsets: a reset requested by seek_to_beginning can lose to the assignment's own.
        for tp, start in (await consumer.beginning_offsets(partitions)).items():
            consumer.seek(tp, start)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            behind = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
            if not behind:
                break
            batch = await consumer.getmany(*behind, timeout_ms=500)
            for tp, records in batch.items():
                letters += [
                    DeadLetter(tp.partition, r.offset, r.timestamp, r.key, r.value or b"",
                               tuple((k, bytes(v)) for k, v in r.headers or ()))
                    for r in records if r.offset < ends[tp]
                ]  # fmt: skip
        else:
            raise TimeoutError(f"{topic} could not be read to its end in {wait_seconds:.0f} s")
    finally:
        await consumer.stop()
    return letters


async def reprocessed(cfg: Settings) -> dict[str, datetime]:
    """When each dead letter (by id) was sent back; empty when nothing ever was."""
    try:
        conn = await asyncpg.connect(cfg.database_url(OPERATIONS_DATABASE))
    except asyncpg.InvalidCatalogNameError:
        return {}
    try:
        rows = await conn.fetch(
            'select partition, "offset", reprocessed_at from reprocessed_deadletters'
            " where deadletter_topic = $1",
            cfg.topic(DEADLETTER),
        )
    except asyncpg.UndefinedTableError:
        return {}
    finally:
        await conn.close()
    return {f"{r['partition']}:{r['offset']}": r["reprocessed_at"] for r in rows}


@dataclass(frozen=True)
class Outcome:
    """What became of one dead letter: sent back, sent before, or refused (and why)."""

    letter: DeadLetter
    result: Literal["sent", "already", "refused"]
    why: str = ""


class _Refused(Exception):
    pass


_CLAIM = """
insert into reprocessed_deadletters (deadletter_topic, partition, "offset", source_topic,
                                     source_partition, source_offset, event_id, reprocessed_by)
values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing returning true
"""


async def reprocess(cfg: Settings, letters: Sequence[DeadLetter], by: str) -> list[Outcome]:
    """Send each dead letter's original record back to its source topic, once ever."""
    seal = DeadLetterSeal(cfg.deadletter_secret())
    pool = await open_pool(
        cfg.database_url(OPERATIONS_DATABASE), [OPERATIONS_MIGRATIONS], max_size=2, login=None
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=cfg.kafka_bootstrap,
        client_id="appointments-deadletter",
        enable_idempotence=True,
        acks="all",
    )
    await producer.start()
    outcomes: list[Outcome] = []
    try:
        for letter in letters:
            outcomes.append(await _one(pool, producer, seal, cfg.topic(DEADLETTER), letter, by))
    finally:
        await producer.stop()
        await pool.close()
    return outcomes


async def _one(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    seal: DeadLetterSeal,
    topic: str,
    letter: DeadLetter,
    by: str,
) -> Outcome:
    place = (_int(letter.header("dlq_source_partition")), _int(letter.header("dlq_source_offset")))
    try:
        async with pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetchval(
                _CLAIM, topic, letter.partition, letter.offset, letter.source_topic, *place,
                letter.header("ce_id") or None, by,
            )  # fmt: skip
            if not claimed:
                return Outcome(letter, "already")
            if not letter.source_topic:
                raise _Refused("it names no source topic")
            try:
                value = letter.original_value(seal)
            except ValueError as exc:
                raise _Refused(str(exc)) from exc
            # Sent inside the claim's transaction: a failed send leaves it unclaimed, to try again.
            await asyncio.wait_for(
                producer.send_and_wait(
                    letter.source_topic, value, key=letter.key, headers=letter.original_headers()
                ),
                timeout=60,
            )
    except _Refused as exc:
        return Outcome(letter, "refused", str(exc))
    return Outcome(letter, "sent")


def _int(text: str) -> int | None:
    return int(text) if text.lstrip("-").isdigit() else None
