"""The in-memory event store passes the same contract as the PostgreSQL one."""

from __future__ import annotations

import pytest

from services.common.eventstore import StoredEvent
from services.common.memory_store import MemoryEventStore
from tests.support.store_contract import EventStoreContract, Store


@pytest.fixture
def store() -> MemoryEventStore[None]:
    return MemoryEventStore("urn:test")


class TestMemoryEventStore(EventStoreContract):
    """The contract, in memory."""

    @staticmethod
    async def outbox_of(store: Store) -> list[tuple[str, str, str]]:
        assert isinstance(store, MemoryEventStore)
        return [(o.envelope.subject, o.topic, o.key) for o in store.outbox]

    @staticmethod
    async def stored(store: Store, stream_id: str) -> list[StoredEvent]:
        assert isinstance(store, MemoryEventStore)
        return store.events(stream_id)
