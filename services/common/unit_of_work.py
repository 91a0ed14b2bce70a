"""One unit of work per command: one connection, one transaction, load, decide, append, commit.

A handler writes its use case as ``async def work(unit) -> T`` and hands it to
``run_unit``: the unit loads the streams it needs (several in one query), the
service's views read the outside facts on the same connection, the handler
decides and stages the new events with ``unit.append``; on leaving, every staged
event and its outbox row go to the store in one statement and the transaction
commits. When another writer moved a stream first (``StreamConflict``), the whole
unit is rolled back and run again from the load: the one retry loop of the codebase.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from schemas.base import DomainEvent
from services.common.eventstore import StoredEvent, StreamConflict

S = TypeVar("S")
E = TypeVar("E")
T = TypeVar("T")
V = TypeVar("V", covariant=True)


def as_domain_event(stored: StoredEvent) -> DomainEvent:
    """A stored envelope read back as its (upcast) domain event."""
    env = stored.envelope
    return env.domain_event()


def any_event(event: DomainEvent) -> DomainEvent:
    """The narrowing of a fold that takes every event as it comes."""
    return event


@dataclass(frozen=True)
class Fold(Generic[S, E]):
    """How a kind of stream becomes state: its initial state, its evolve and its event narrowing.

    ``tag`` names what the initial state depends on beyond the stream id (e.g. the county's
    version), so a cached state built on other reference data is never reused.
    """

    initial: Callable[[str], S]
    evolve: Callable[[S, E], S]
    narrow: Callable[[DomainEvent], E]
    tag: str = ""

    def over(self, state: S, events: Sequence[DomainEvent]) -> S:
        """The state after these events, in order."""
        for event in events:
            state = self.evolve(state, self.narrow(event))
        return state


@dataclass(frozen=True)
class Loaded(Generic[S]):
    """One stream's state as loaded in a unit, with its version and the hash of its last event."""

    stream_id: str
    version: int
    state: S
    hash: bytes | None = None
    fold: Fold[S, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Metadata:
    """Who caused a command, why, and when: stamped on every event it produces."""

    correlation_id: str
    actor: str
    now: Any  # datetime; Any keeps this module free of a clock
    causation_id: str | None = None


class Unit(Protocol[V]):
    """What a command handler sees of the store for one unit of work."""

    @property
    def views(self) -> V:
        """The service's own tables and outside facts, read and written in this same transaction."""
        ...

    async def load(self, fold: Fold[S, Any], stream_ids: Sequence[str]) -> list[Loaded[S]]:
        """Several streams' states, in the order asked, in one read."""
        ...

    def append(self, loaded: Loaded[S], events: Sequence[DomainEvent], meta: Metadata) -> Loaded[S]:
        """Stage events decided on a loaded stream; returns the stream as it will be after them."""
        ...


class EventStore(Protocol[V]):
    """A service's event store: opens units of work over its streams and its views."""

    def unit(self, within: Any = None) -> AbstractAsyncContextManager[Unit[V]]:
        """A unit of work; ``within`` runs it inside a caller's transaction (e.g. a consumer's)."""
        ...


class TooMuchContention(Exception):
    """The streams kept moving under us; the caller should try again shortly."""


async def load_one(unit: Unit[Any], fold: Fold[S, Any], stream_id: str) -> Loaded[S]:
    """One stream's state (a convenience over ``Unit.load``)."""
    (loaded,) = await unit.load(fold, [stream_id])
    return loaded


async def run_unit(
    store: EventStore[V],
    work: Callable[[Unit[V]], Awaitable[T]],
    *,
    within: Any = None,
    attempts: int = 8,
) -> T:
    """Run ``work`` in a unit of work, and again from the start when a stream moved meanwhile.

    A refusal raised by the work propagates unchanged: the loser of a race for the last
    slot reloads, sees the slot taken, and is refused, never silently double booked.
    """
    for _ in range(attempts):
        try:
            async with store.unit(within) as unit:
                return await work(unit)
        except StreamConflict:
            continue  # rolled back; load again and decide again
    raise TooMuchContention("the diary kept changing while deciding: try again")
