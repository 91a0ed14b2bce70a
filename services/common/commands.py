"""Running a decider against the event store: load and fold, decide, append, retry on conflict."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import asyncpg

from schemas.base import DomainEvent, parse_event
from schemas.envelope import Envelope
from services.common.eventstore import Outgoing, StoredEvent, StreamConflict, append, load_stream

S = TypeVar("S")

# Extra writes in the same transaction (e.g. an index of where each appointment lives).
AlsoWrite = Callable[[asyncpg.Connection, Sequence[DomainEvent]], Awaitable[None]]


@dataclass(frozen=True)
class Metadata:
    """Who caused a command, why, and when: stamped on every event it produces."""

    correlation_id: str
    actor: str
    now: datetime
    causation_id: str | None = None


def outgoing(event: DomainEvent, stream_id: str, source: str, meta: Metadata) -> Outgoing:
    """Wrap a domain event in its envelope, bound for its topic under its contract key."""
    envelope = Envelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        source=source,
        subject=stream_id,
        time=meta.now,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        actor=meta.actor,
        data=event.model_dump(mode="json"),
    )
    return Outgoing(envelope, event.topic, event.stream_key())


def events_of(stored: Sequence[StoredEvent]) -> list[DomainEvent]:
    """Stored envelopes read back as (upcast) domain events."""
    return [
        parse_event(s.envelope.event_type, s.envelope.schema_version, s.envelope.data) for s in stored
    ]


@dataclass(frozen=True)
class Loaded(Generic[S]):
    """One stream's state as loaded inside a transaction, and the version it was at."""

    stream_id: str
    version: int
    state: S


async def load_state(
    conn: asyncpg.Connection, stream_id: str, source: str, initial: S, evolve: Callable[[S, DomainEvent], S]
) -> Loaded[S]:
    """Load and fold one stream (for commands that decide over several streams at once)."""
    stored = await load_stream(conn, stream_id, source)
    state = initial
    for event in events_of(stored):
        state = evolve(state, event)
    return Loaded(stream_id, len(stored), state)


async def append_decided(
    conn: asyncpg.Connection, loaded: Loaded[S], events: Sequence[DomainEvent], source: str, meta: Metadata
) -> None:
    """Append the events decided on a loaded stream at the version it was loaded at."""
    if events:
        batch = [outgoing(e, loaded.stream_id, source, meta) for e in events]
        await append(conn, loaded.stream_id, loaded.version, batch)


class TooMuchContention(Exception):
    """The stream kept moving under us; the caller should try again shortly."""


async def run_command(
    pool: asyncpg.Pool,
    *,
    source: str,
    stream_id: str,
    initial: S,
    evolve: Callable[[S, DomainEvent], S],
    decide: Callable[[S], list[DomainEvent]],
    meta: Metadata,
    also_write: AlsoWrite | None = None,
    attempts: int = 8,
    within: asyncpg.Connection | None = None,
) -> tuple[S, list[DomainEvent]]:
    """Decide against the stream's current state and append; returns the state and new events.

    A refusal raised by ``decide`` propagates unchanged. A conflict (someone else
    appended first) reloads and decides again, so the loser of a race for the last
    slot sees the slot taken and is refused, never silently double booked. With
    ``within``, it runs inside that connection's transaction (as a savepoint), so
    a consumer's offset and the command's events commit together.
    """
    for _ in range(attempts):
        try:
            return await _attempt(pool, source, stream_id, initial, evolve, decide, meta, also_write, within)
        except StreamConflict:
            continue  # the transaction was rolled back; reload and decide again
    raise TooMuchContention(f"{stream_id} is too busy; try again")


async def _attempt(
    pool: asyncpg.Pool,
    source: str,
    stream_id: str,
    initial: S,
    evolve: Callable[[S, DomainEvent], S],
    decide: Callable[[S], list[DomainEvent]],
    meta: Metadata,
    also_write: AlsoWrite | None,
    within: asyncpg.Connection | None,
) -> tuple[S, list[DomainEvent]]:
    async with contextlib.AsyncExitStack() as stack:
        conn = within if within is not None else await stack.enter_async_context(pool.acquire())
        await stack.enter_async_context(conn.transaction())
        stored = await load_stream(conn, stream_id, source)
        state = initial
        for event in events_of(stored):
            state = evolve(state, event)
        new = decide(state)
        if not new:
            return state, []
        batch = [outgoing(e, stream_id, source, meta) for e in new]
        await append(conn, stream_id, len(stored), batch)
        if also_write is not None:
            await also_write(conn, new)
    for event in new:
        state = evolve(state, event)
    return state, new
