"""The event store in memory: the same units of work, for fast in-process handler tests.

It passes the same contract suite as the PostgreSQL store (tests/support/store_contract.py):
streams with versions and a hash chain, optimistic concurrency checked when a unit
ends, every stream of a unit appended or none, an outbox in append order. A service's
views in memory are plain objects shared by every unit: unlike PostgreSQL's tables,
their writes are not rolled back when a unit conflicts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from schemas.base import DomainEvent
from services.common.eventstore import Outgoing, StoredEvent, StreamConflict, chain_hash
from services.common.pg_store import outgoing
from services.common.unit_of_work import Fold, Loaded, Metadata, S, as_domain_event

V = TypeVar("V")


class MemoryUnit(Generic[V]):
    """One unit of work against the in-memory streams."""

    def __init__(self, store: MemoryEventStore[V]) -> None:
        self._store = store
        self._current: dict[str, Loaded[Any]] = {}
        self._staged: dict[str, tuple[int, list[Outgoing]]] = {}

    @property
    def views(self) -> V:
        """The service's in-memory views."""
        return self._store.views

    async def load(self, fold: Fold[S, Any], stream_ids: Sequence[str]) -> list[Loaded[S]]:
        """Several streams' states, folded from their events."""
        for stream in stream_ids:
            if stream not in self._current:
                stored = self._store.streams.get(stream, [])
                state = fold.over(fold.initial(stream), [as_domain_event(e) for e in stored])
                last = stored[-1].hash if stored else None
                self._current[stream] = Loaded(stream, len(stored), state, last, fold)
        return [self._current[s] for s in stream_ids]

    def append(self, loaded: Loaded[S], events: Sequence[DomainEvent], meta: Metadata) -> Loaded[S]:
        """Stage events on a stream loaded in this unit."""
        if not events:
            return loaded
        current = self._current.get(loaded.stream_id)
        if current is None or current.version != loaded.version:
            raise ValueError(f"{loaded.stream_id} was not loaded in this unit at version {loaded.version}")
        expected, batch = self._staged.get(loaded.stream_id, (loaded.version, []))
        batch = [*batch, *(outgoing(e, loaded.stream_id, self._store.source, meta) for e in events)]
        self._staged[loaded.stream_id] = (expected, batch)
        state = loaded.fold.over(loaded.state, events) if loaded.fold else loaded.state
        after = Loaded(loaded.stream_id, loaded.version + len(events), state, None, loaded.fold)
        self._current[loaded.stream_id] = after
        return after

    async def flush(self) -> None:
        """Nothing to secure early in memory: the versions are checked when the unit ends."""

    def commit(self) -> None:
        """Append every staged stream, or none when one of them moved since it was loaded."""
        streams = self._store.streams
        for stream, (expected, _) in self._staged.items():
            if len(streams.get(stream, [])) != expected:
                raise StreamConflict(stream, expected)
        seen = {e.envelope.event_id for events in streams.values() for e in events}
        for stream, (expected, batch) in self._staged.items():
            stored = streams.setdefault(stream, [])
            prev = stored[-1].hash if stored else None
            for n, item in enumerate(batch, start=expected + 1):
                if item.envelope.event_id in seen:
                    raise ValueError(f"event {item.envelope.event_id} is stored already")
                prev = chain_hash(prev, item.envelope, n)
                self._store.position += 1
                stored.append(StoredEvent(stream, n, self._store.position, item.envelope, prev))
                self._store.outbox.append(item)


class MemoryEventStore(Generic[V]):
    """Streams, an outbox and a service's views, all in memory."""

    def __init__(self, source: str, views: Callable[[MemoryEventStore[V]], V] | None = None) -> None:
        self.source = source
        self.streams: dict[str, list[StoredEvent]] = {}
        self.outbox: list[Outgoing] = []
        self.position = 0
        self.views: V = views(self) if views is not None else None  # type: ignore[assignment]

    @asynccontextmanager
    async def unit(self, within: Any = None) -> AsyncIterator[MemoryUnit[V]]:
        """A unit of work; its appends land when it ends without an error."""
        unit = MemoryUnit(self)
        yield unit
        unit.commit()

    def events(self, stream_id: str) -> list[StoredEvent]:
        """What a stream holds (for tests)."""
        return list(self.streams.get(stream_id, []))
