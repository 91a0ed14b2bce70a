"""What every unit of work shares, whatever store it runs on: streams loaded, events staged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from schemas.base import DomainEvent
from schemas.envelope import Envelope
from services.common.eventstore import Outgoing, StreamAppend
from services.common.ids import time_ordered_id
from services.common.unit_of_work import Loaded, Metadata, S

V = TypeVar("V")


def outgoing(event: DomainEvent, stream_id: str, source: str, meta: Metadata) -> Outgoing:
    """Wrap a domain event in its envelope, bound for its topic under its contract key."""
    envelope = Envelope(
        event_id=time_ordered_id(),
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


class StagedUnit(Generic[V]):
    """Streams as this unit has them (loaded, or with events staged), and the appends to write."""

    def __init__(self, source: str, views: V) -> None:
        self._source = source
        self._views = views
        self._current: dict[str, Loaded[Any]] = {}
        self._staged: dict[str, StreamAppend] = {}

    @property
    def views(self) -> V:
        """The service's tables and outside facts, in this unit."""
        return self._views

    def append(self, loaded: Loaded[S], events: Sequence[DomainEvent], meta: Metadata) -> Loaded[S]:
        """Stage events on a stream loaded in this unit; they are written when the unit ends."""
        if not events:
            return loaded
        current = self._current.get(loaded.stream_id)
        if current is None or current.version != loaded.version:
            raise ValueError(f"{loaded.stream_id} was not loaded in this unit at version {loaded.version}")
        batch = [outgoing(e, loaded.stream_id, self._source, meta) for e in events]
        staged = self._staged.get(loaded.stream_id)
        if staged is None:
            staged = StreamAppend(loaded.stream_id, loaded.version, loaded.hash, [])
        self._staged[loaded.stream_id] = StreamAppend(
            staged.stream_id, staged.expected_version, staged.prev_hash, [*staged.outgoing, *batch]
        )
        state = loaded.fold.over(loaded.state, events) if loaded.fold else loaded.state
        after = Loaded(loaded.stream_id, loaded.version + len(events), state, None, loaded.fold)
        self._current[loaded.stream_id] = after
        return after
