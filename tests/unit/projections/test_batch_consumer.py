"""The idempotent consumer's batch mode, on an in-memory ledger: once each, poison aside, all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.envelope import Envelope
from services.common.consumer import (
    IdempotentConsumer,
    PoisonRecord,
    Position,
    Transient,
    next_offsets,
    split,
    unseen,
)

TOPIC = "booking.events"


def envelope(n: int) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), event_type="Counted", schema_version=1, source="urn:test",
        subject=f"counter-{n}", time=datetime(2026, 12, 1, tzinfo=UTC), correlation_id=f"c-{n}",
        data={"n": n},
    )  # fmt: skip


@dataclass
class Rec:
    """A record as Kafka hands it over."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


def rec(offset: int, env: Envelope, partition: int = 0) -> Rec:
    return Rec(TOPIC, partition, offset, b"k", env.kafka_value(), env.kafka_headers())


def garbage(offset: int) -> Rec:
    return Rec(TOPIC, 0, offset, b"k", b"{not json", [("ce_id", b"x")])


@dataclass
class Ledger:
    """What PostgreSQL would hold: offsets, applied event ids and the read model (a list of n)."""

    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    applied: set[uuid.UUID] = field(default_factory=set)
    counted: list[int] = field(default_factory=list)
    transactions: int = 0


class MemoryConnection:
    """Answers the consumer's three ledger statements; a failed transaction keeps nothing."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        saved = (dict(self.ledger.offsets), set(self.ledger.applied), list(self.ledger.counted))
        try:
            yield
        except BaseException:
            self.ledger.offsets, self.ledger.applied, self.ledger.counted = saved
            raise
        self.ledger.transactions += 1

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if "from consumer_offsets" in sql:
            _, topics, partitions = args
            keys = set(zip(topics, partitions, strict=True))
            return [
                {"topic": t, "partition": p, "next_offset": o}
                for (t, p), o in self.ledger.offsets.items()
                if (t, p) in keys
            ]
        assert "into applied_events" in sql
        fresh = [i for i in dict.fromkeys(args[1]) if i not in self.ledger.applied]
        self.ledger.applied.update(fresh)
        return [{"event_id": i} for i in fresh]

    async def execute(self, sql: str, *args: Any) -> None:
        assert "into consumer_offsets" in sql
        _, topics, partitions, offsets = args
        for key, offset in zip(zip(topics, partitions, strict=True), offsets, strict=True):
            self.ledger.offsets[key] = max(self.ledger.offsets.get(key, 0), offset)


class MemoryPool:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[MemoryConnection]:
        yield MemoryConnection(self.ledger)


@dataclass
class Harness:
    ledger: Ledger = field(default_factory=Ledger)
    dead: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    transient_at: int | None = None

    async def publish(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        assert topic == "deadletter"
        self.dead.append((value, {k: v.decode() for k, v in headers}))

    async def apply(self, conn: Any, env: Envelope, _: Position) -> None:
        n = env.data["n"]
        if n == 13:
            raise PoisonRecord("thirteen is not allowed here")
        conn.ledger.counted.append(n)
        if n == self.transient_at:
            raise Transient("the database went away mid-batch")

    async def apply_batch(self, conn: Any, batch: Sequence[tuple[Envelope, Position]]) -> None:
        for env, pos in batch:
            await self.apply(conn, env, pos)

    def consumer(self) -> IdempotentConsumer:
        return IdempotentConsumer(
            "counter", MemoryPool(self.ledger), self.apply, self.publish, self.apply_batch
        )


def test_a_batch_splits_into_readable_records_and_unreadable_ones_with_why() -> None:
    one = envelope(1)
    readable, unreadable = split([rec(0, one), garbage(1)])
    assert [r.envelope.event_id for r in readable] == [one.event_id]
    assert [(r.offset, why.startswith("unreadable record")) for r, why in unreadable] == [(1, True)]


def test_records_below_the_stored_offset_and_repeated_event_ids_are_not_applied_again() -> None:
    one, two = envelope(1), envelope(2)
    readable, _ = split([rec(3, one), rec(5, one), rec(6, two), rec(7, two, partition=1)])
    kept = unseen(readable, {(TOPIC, 0): 4})
    assert [(r.position.offset, r.envelope.data["n"]) for r in kept] == [(5, 1), (6, 2)]


def test_a_batch_ends_with_one_position_per_partition_just_past_its_last_record() -> None:
    one = envelope(1)
    batch = [rec(4, one), rec(9, one, partition=2), rec(5, one), rec(10, one, partition=2)]
    assert next_offsets(batch) == {(TOPIC, 0): 6, (TOPIC, 2): 11}


async def test_a_clean_batch_is_one_transaction_with_every_record_applied_once() -> None:
    h = Harness()
    one, two = envelope(1), envelope(2)
    outcomes = await h.consumer().handle_batch([rec(0, one), rec(1, two), rec(2, one)])
    assert outcomes == ["applied", "applied", "duplicate"]
    assert (h.ledger.counted, h.ledger.offsets, h.ledger.transactions) == ([1, 2], {(TOPIC, 0): 3}, 1)
    again = await h.consumer().handle_batch([rec(0, one), rec(1, two), rec(2, one)])
    assert again == ["duplicate"] * 3 and h.ledger.counted == [1, 2]


async def test_a_poison_record_mid_batch_goes_aside_and_the_others_are_applied_once() -> None:
    h = Harness()
    one, bad, two = envelope(1), envelope(13), envelope(2)
    outcomes = await h.consumer().handle_batch(
        [rec(0, one), rec(1, bad), garbage(2), rec(3, one), rec(4, two)]
    )
    assert outcomes == ["applied", "deadlettered", "deadlettered", "duplicate", "applied"]
    assert h.ledger.counted == [1, 2] and h.ledger.offsets == {(TOPIC, 0): 5}
    reasons = [(headers["dlq_source_offset"], headers["dlq_reason"]) for _, headers in h.dead]
    assert reasons[0] == ("1", "PoisonRecord: thirteen is not allowed here")
    assert reasons[1][0] == "2" and reasons[1][1].startswith("unreadable record")
    assert bad.event_id not in h.ledger.applied  # put aside, not applied


async def test_a_transient_failure_keeps_nothing_of_the_batch_and_it_applies_once_when_it_comes_again() -> (
    None
):
    h = Harness(transient_at=2)
    batch = [rec(0, envelope(1)), rec(1, envelope(2)), rec(2, envelope(3))]
    with pytest.raises(Transient):
        await h.consumer().handle_batch(batch)
    assert (h.ledger.counted, h.ledger.offsets, h.ledger.applied) == ([], {}, set())
    h.transient_at = None
    assert await h.consumer().handle_batch(batch) == ["applied"] * 3
    assert h.ledger.counted == [1, 2, 3] and h.ledger.offsets == {(TOPIC, 0): 3}


async def test_an_unreadable_record_already_behind_the_stored_offset_is_not_dead_lettered_twice() -> None:
    h = Harness()
    h.ledger.offsets[(TOPIC, 0)] = 3
    assert await h.consumer().handle_batch([garbage(2), rec(3, envelope(4))]) == ["duplicate", "applied"]
    assert h.dead == [] and h.ledger.counted == [4]


async def test_a_poison_record_in_a_large_batch_ends_up_alone_and_the_clean_ones_go_in_few_batches() -> None:
    h = Harness()
    envs = [envelope(13 if n == 41 else 100 + n) for n in range(64)]
    outcomes = await h.consumer().handle_batch([rec(n, env) for n, env in enumerate(envs)])
    assert outcomes == ["applied"] * 41 + ["deadlettered"] + ["applied"] * 22
    assert h.ledger.counted == [100 + n for n in range(64) if n != 41]
    assert h.ledger.offsets == {(TOPIC, 0): 64}
    assert [headers["dlq_source_offset"] for _, headers in h.dead] == ["41"]
    # Halving down to the poison record: a handful of transactions, not one per record.
    assert h.ledger.transactions <= 2 * 6 + 1


def other_kind(n: int) -> Envelope:
    """An event of a type the consumer does not act on."""
    return envelope(n).model_copy(update={"event_type": "Ignored"})


async def test_a_consumer_that_wants_some_types_lets_the_others_pass_without_a_transaction() -> None:
    h = Harness()
    wanting = IdempotentConsumer(
        "counter", MemoryPool(h.ledger), h.apply, h.publish, h.apply_batch, wants=frozenset({"Counted"})
    )
    outcomes = await wanting.handle_batch([rec(0, other_kind(7)), rec(1, envelope(1)), rec(2, other_kind(8))])
    assert outcomes == ["passed", "applied", "passed"]
    assert h.ledger.counted == [1] and h.ledger.transactions == 1
    assert await wanting.handle_batch([rec(3, other_kind(9)), rec(4, other_kind(10))]) == ["passed"] * 2
    assert h.ledger.transactions == 1  # a fetch of nothing it acts on opened no transaction
    assert await wanting.handle(rec(5, other_kind(11))) == "passed" and h.ledger.counted == [1]
    # An unreadable record is never let pass: it still goes aside with why.
    assert await wanting.handle_batch([garbage(6)]) == ["deadlettered"]


def published(
    n: int, *, version: int = 1, data: dict[str, Any] | None = None, kind: str = "DutyEnded"
) -> Envelope:
    """An event as a publisher would put it on a topic: a registered type unless told otherwise."""
    body = data if data is not None else {
        "officer_id": f"o-{n}", "duty_id": f"d-{n}", "ends_at": "2026-12-01T18:00:00Z", "early": False,
        "reason": "end of day", "ended_at": "2026-12-01T18:00:00Z",
    }  # fmt: skip
    return envelope(n).model_copy(update={"event_type": kind, "schema_version": version, "data": body})


async def test_a_consumer_of_the_contract_puts_aside_what_is_not_published_and_never_applies_it() -> None:
    h = Harness()

    async def keep(conn: Any, env: Envelope, _: Position) -> None:
        conn.ledger.counted.append(int(env.data["officer_id"].removeprefix("o-")))

    async def keep_all(conn: Any, batch: Sequence[tuple[Envelope, Position]]) -> None:
        for env, pos in batch:
            await keep(conn, env, pos)

    checking = IdempotentConsumer("counter", MemoryPool(h.ledger), keep, h.publish, keep_all, contract=True)
    wrong_shape = published(2, data={"officer_id": "o-2", "phone": "07700 900111"})
    records = [
        rec(0, published(1)), rec(1, wrong_shape), rec(2, published(3, version=7)),
        rec(3, published(4, kind="Forged")), garbage(4),
    ]  # fmt: skip
    outcomes = await checking.handle_batch(records)
    assert outcomes == ["applied", "deadlettered", "deadlettered", "deadlettered", "deadlettered"]
    assert h.ledger.counted == [1]  # only the published one was applied
    reasons = {headers["dlq_source_offset"]: headers["dlq_reason"] for _, headers in h.dead}
    assert reasons["1"].startswith("outside the contract: DutyEnded v1:") and "duty_id" in reasons["1"]
    assert "newer than this code knows" in reasons["2"] and "unknown event type" in reasons["3"]
    assert all("900111" not in reason for reason in reasons.values())  # no value is repeated
    assert await checking.handle(rec(5, published(5, kind="Forged"))) == "deadlettered"
    assert h.ledger.counted == [1]
