"""Running one decider over one stream: a shorthand over the unit of work for simple services.

``run_command`` loads a stream, decides, appends, and writes the service's index rows
(``also_write``) in one unit of work, retried by ``run_unit`` on a conflict. Handlers
that need several streams or outside facts write their own unit (booking does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from schemas.base import DomainEvent
from services.common.eventstore import StoredEvent
from services.common.pg_store import PgEventStore
from services.common.staging import outgoing
from services.common.unit_of_work import (
    Fold,
    Loaded,
    Metadata,
    TooMuchContention,
    Unit,
    any_event,
    as_domain_event,
    load_one,
    run_unit,
)

S = TypeVar("S")

# Extra writes in the same transaction (e.g. an index of where each officer's duties are).
AlsoWrite = Callable[[asyncpg.Connection, Sequence[DomainEvent]], Awaitable[None]]

__all__ = ["Loaded", "Metadata", "TooMuchContention", "events_of", "outgoing", "run_command"]


def events_of(stored: Sequence[StoredEvent]) -> list[DomainEvent]:
    """Stored envelopes read back as (upcast) domain events."""
    return [as_domain_event(s) for s in stored]


async def run_command(
    pool: asyncpg.Pool,
    *,
    source: str,
    stream_id: str,
    initial: S,
    evolve: Callable[[S, DomainEvent], S],
    decide: Callable[[S], Sequence[DomainEvent]],
    meta: Metadata,
    also_write: AlsoWrite | None = None,
    attempts: int = 8,
) -> tuple[S, list[DomainEvent]]:
    """Decide against the stream's current state and append; returns the state and new events.

    A refusal raised by ``decide`` propagates unchanged; a conflict decides again.
    """
    store: PgEventStore[asyncpg.Connection] = PgEventStore(pool, source, lambda conn, _: conn, cache=False)
    fold: Fold[S, DomainEvent] = Fold(initial=lambda _: initial, evolve=evolve, narrow=any_event)

    async def work(unit: Unit[asyncpg.Connection]) -> tuple[S, list[DomainEvent]]:
        loaded = await load_one(unit, fold, stream_id)
        new = list(decide(loaded.state))
        after = unit.append(loaded, new, meta)
        if new and also_write is not None:
            await also_write(unit.views, new)
        return after.state, new

    return await run_unit(store, work, attempts=attempts)
