"""Consumers commit to Kafka now and then (PostgreSQL holds where they stand), and rewind on failure."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.kafka import CommitThrottle, settle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Message:
    """What settle uses of FastStream's message: ack commits what was read, nack rewinds."""

    def __init__(self) -> None:
        self.acks = 0
        self.nacks = 0

    async def ack(self) -> None:
        self.acks += 1

    async def nack(self) -> None:
        self.nacks += 1


async def applied() -> None:
    return None


async def refused() -> None:
    raise ConnectionError("database restarting")


def test_the_first_record_commits_then_at_most_once_per_interval() -> None:
    clock = Clock()
    throttle = CommitThrottle(every=5.0, clock=clock)
    assert throttle.due()
    clock.now += 4.9
    assert not throttle.due()
    clock.now += 0.2
    assert throttle.due()
    assert not throttle.due()


async def test_applied_records_commit_only_when_due() -> None:
    clock = Clock()
    throttle = CommitThrottle(every=5.0, clock=clock)
    message: Any = Message()
    for _ in range(100):
        await settle(message, applied(), throttle)
    assert (message.acks, message.nacks) == (1, 0)
    clock.now += 5.0
    await settle(message, applied(), throttle)
    assert (message.acks, message.nacks) == (2, 0)


async def test_a_failure_rewinds_and_never_commits() -> None:
    throttle = CommitThrottle(every=5.0, clock=Clock())
    message: Any = Message()
    with pytest.raises(ConnectionError):
        await settle(message, refused(), throttle)
    assert (message.acks, message.nacks) == (0, 1)
    assert throttle.due()  # the failure did not use up the next commit
