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

from services.common.eventstore import Outgoing, StoredEvent, StreamConflict, chain_hash
from services.common.staging import StagedUnit
from services.common.unit_of_work import Fold, Loaded, S, as_domain_event

V = TypeVar("V")


class MemoryUnit(StagedUnit[V]):
    """One unit of work against the in-memory streams."""

    def __init__(self, store: MemoryEventStore[V]) -> None:
        super().__init__(store.source, store.views)
        self._store = store

    async def load(self, fold: Fold[S, Any], stream_ids: Sequence[str]) -> list[Loaded[S]]:
        """Several streams' states, folded from their events."""
        for stream in stream_ids:
            if stream not in self._current:
                stored = self._store.streams.get(stream, [])
                state = fold.over(fold.initial(stream), [as_domain_event(e) for e in stored])
                last = stored[-1].hash if stored else None
                self._current[stream] = Loaded(stream, len(stored), state, last, fold)
        return [self._current[s] for s in stream_ids]

    def commit(self) -> None:
        """Append every staged stream, or none when one of them moved since it was loaded."""
        streams = self._store.streams
        for stream, staged in self._staged.items():
            if len(streams.get(stream, [])) != staged.expected_version:
                raise StreamConflict(stream, staged.expected_version)
        seen = {e.envelope.event_id for events in streams.values() for e in events}
        for stream, staged in self._staged.items():
            stored = streams.setdefault(stream, [])
            prev = stored[-1].hash if stored else None
            for n, item in enumerate(staged.outgoing, start=staged.expected_version + 1):
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
