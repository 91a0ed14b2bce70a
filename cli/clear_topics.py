"""Erasure on Kafka: the topics that carry a person's details in clear lose what their readers took.

Every event topic holds personal data sealed, and destroying the subject's key erases it there.
Three topics cannot: their records are for systems that need the words themselves. The
control room's requests (``controlroom.appointment-requests``, a caller's name and number as
the control room sent them, until booking seals them), the texts to send
(``notifications.sms-outbound``, the number the gateway sends to and the words), and the texts
the public sent (``notifications.sms-inbound``, the words of a reply). They are messages, not
history: once their reader has taken a record (booking sealed the request; the gateway sent
the text; notifications sealed the reply), nothing needs it again.

So an erasure ends by deleting, on each partition of those topics, every record up to where the
partition ended when the erasure began, with Kafka's DeleteRecords (the partition's start moves
past them: no consumer, replay or dump read through Kafka sees them again). Only records the
reader has applied are deleted: its position is read from its own database
(``consumer_offsets``, written in the same transaction as what it applied), never from Kafka's
committed offsets, which lag. The subject's own records (known by their keys: request ids,
message ids, the keyed hash of their number) that the reader has not taken yet are waited for,
a little; any still not taken stay, and the erasure says so and fails, so the operator runs it
again once the reader is back (running it again deletes what is taken by then and nothing
else). Other people's records taken before the erasure began go too: their readers have them,
and each topic keeps at most 30 days (a week for the control room's) anyway.

Kafka deletes a deleted record's segment file at its next retention check once a newer segment
exists; until then the bytes are on the broker's disk but no Kafka client can read them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from cli.operator import owner_connection
from schemas.topics import CONTROLROOM_REQUESTS, SMS_INBOUND, SMS_OUTBOUND
from services.common.config import Settings
from services.common.kafka import bootstrap_list

# How long an erasure waits for a reader to take what was on its topic when the erasure began.
WAIT_SECONDS = 20.0
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class ClearTopic:
    """A topic whose values hold personal data in clear, and the consumer that takes each record."""

    topic: str
    database: str
    reader: str


CLEAR_TOPICS: tuple[ClearTopic, ...] = (
    ClearTopic(CONTROLROOM_REQUESTS, "booking", "booking-controlroom"),
    ClearTopic(SMS_OUTBOUND, "notifications", "notifications-gateway"),
    ClearTopic(SMS_INBOUND, "notifications", "notifications-replies"),
)


@dataclass(frozen=True)
class Cleared:
    """What one topic lost: records deleted; the subject's records kept as their reader has not taken them."""

    topic: str
    deleted: int = 0
    kept: int = 0
    # Why the subject's records were kept, when their reader has taken nothing at all.
    unread: str | None = None


@dataclass(frozen=True)
class TopicsCleared:
    """Every clear topic's outcome."""

    topics: tuple[Cleared, ...] = field(default_factory=tuple)

    @property
    def deleted(self) -> int:
        """Records deleted on every topic."""
        return sum(t.deleted for t in self.topics)

    @property
    def kept(self) -> int:
        """The subject's records still on a topic because their reader has not taken them yet."""
        return sum(t.kept for t in self.topics)


def deletable(
    ends: Mapping[TopicPartition, int], starts: Mapping[TopicPartition, int], taken: Mapping[int, int]
) -> dict[TopicPartition, int]:
    """Per partition, the offset to delete before: what was there when the erasure began and is taken.

    ``ends``: where each partition ended when the erasure began; ``starts``: where each starts
    now; ``taken``: the reader's next offset per partition number (absent: nothing taken).
    """
    before: dict[TopicPartition, int] = {}
    for tp, end in ends.items():
        upto = min(end, taken.get(tp.partition, 0))
        if upto > starts.get(tp, 0):
            before[tp] = upto
    return before


def untaken(
    ends: Mapping[TopicPartition, int], starts: Mapping[TopicPartition, int], taken: Mapping[int, int]
) -> dict[TopicPartition, tuple[int, int]]:
    """Per partition, the offsets [from, to) that were there when the erasure began and are not taken."""
    return {
        tp: (first, end)
        for tp, end in ends.items()
        if (first := max(starts.get(tp, 0), taken.get(tp.partition, 0))) < end
    }


async def _taken(conn: asyncpg.Connection, reader: str, topic: str) -> dict[int, int]:
    rows = await conn.fetch(
        "select partition, next_offset from consumer_offsets where consumer = $1 and topic = $2",
        reader,
        topic,
    )
    return {int(r["partition"]): int(r["next_offset"]) for r in rows}


async def clear_topics(
    cfg: Settings,
    subject_keys: Mapping[str, frozenset[bytes]],
    topics: tuple[ClearTopic, ...] = CLEAR_TOPICS,
    wait_seconds: float = WAIT_SECONDS,
) -> TopicsCleared:
    """Delete from each clear topic what was on it when called and its reader has applied.

    ``subject_keys``: per topic (contract name), the record keys that are the subject's: the
    erasure waits for those its reader has not taken yet, and counts any it must leave.
    """
    bootstrap = bootstrap_list(cfg.kafka_bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await probe.start()
    await admin.start()
    try:
        ends: dict[str, dict[TopicPartition, int]] = {}
        for spec in topics:
            name = cfg.topic(spec.topic)
            (described,) = await admin.describe_topics([name])
            partitions = [] if described["error_code"] else [p["partition"] for p in described["partitions"]]
            tps = [TopicPartition(name, p) for p in sorted(partitions)]
            ends[spec.topic] = dict(await probe.end_offsets(tps)) if tps else {}
        deadline = time.monotonic() + wait_seconds
        outcomes = []
        for spec in topics:
            keys = subject_keys.get(spec.topic, frozenset())
            outcomes.append(await _clear(cfg, spec, ends[spec.topic], keys, probe, admin, deadline))
        return TopicsCleared(tuple(outcomes))
    finally:
        await admin.close()
        await probe.stop()


async def _clear(
    cfg: Settings,
    spec: ClearTopic,
    ends: dict[TopicPartition, int],
    keys: frozenset[bytes],
    probe: AIOKafkaConsumer,
    admin: AIOKafkaAdminClient,
    deadline: float,
) -> Cleared:
    if not ends:
        return Cleared(spec.topic)
    conn = await owner_connection(cfg, spec.database)
    if conn is None:
        return Cleared(spec.topic, unread=f"no {spec.database} database here")
    name = cfg.topic(spec.topic)
    try:
        while True:
            taken = await _taken(conn, spec.reader, name)
            starts = dict(await probe.beginning_offsets(list(ends)))
            left = untaken(ends, starts, taken)
            kept = await _keyed(probe, left, keys) if keys and left else 0
            if kept == 0 or time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await conn.close()
    before = deletable(ends, starts, taken)
    if before:
        await admin.delete_records({tp: RecordsToDelete(offset) for tp, offset in before.items()})
    deleted = sum(offset - starts.get(tp, 0) for tp, offset in before.items())
    unread = f"{spec.reader} has taken none of it" if kept and not taken else None
    return Cleared(spec.topic, deleted, kept, unread)


async def _keyed(
    probe: AIOKafkaConsumer, ranges: Mapping[TopicPartition, tuple[int, int]], keys: frozenset[bytes]
) -> int:
    """How many records in the offset ranges have one of the keys (a read of just those ranges)."""
    probe.assign(list(ranges))
    for tp, (first, _) in ranges.items():
        probe.seek(tp, first)
    found, open_ = 0, dict(ranges)
    while open_:
        batch = await probe.getmany(*open_, timeout_ms=1000)
        if not batch:
            break  # nothing more comes (a range already gone to retention)
        for tp, records in batch.items():
            end = open_[tp][1]
            found += sum(1 for r in records if r.offset < end and r.key in keys)
            if records and records[-1].offset + 1 >= end:
                del open_[tp]
    probe.unsubscribe()
    return found
