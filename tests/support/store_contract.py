"""The event-store contract: one suite that every adapter (PostgreSQL, in memory) must pass.

Subclass ``EventStoreContract`` and give it a ``store`` fixture yielding a fresh store
whose views are None; the outbox each adapter keeps is read back through ``outbox_of``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.roster import OfficerRegistered
from services.common.eventstore import StoredEvent, StreamConflict, chain_hash
from services.common.unit_of_work import (
    EventStore,
    Fold,
    Loaded,
    Metadata,
    TooMuchContention,
    Unit,
    any_event,
    load_one,
    run_unit,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
META = Metadata(correlation_id="corr-1", actor="test:contract", now=NOW)

# A stream's state here: the collar numbers registered on it, in order.
Collars = tuple[str, ...]
COLLARS: Fold[Collars, Any] = Fold(
    initial=lambda _: (),
    evolve=lambda state, e: (*state, e.collar_number),
    narrow=any_event,
    tag="contract-collars",
)


def registered(officer: str, collar: str) -> OfficerRegistered:
    """An event with something to fold."""
    return OfficerRegistered(
        officer_id=officer, collar_number=collar, station_id="stevenage", district_id="stevenage",
        registered_at=NOW,
    )  # fmt: skip


Store = EventStore[None]
OutboxOf = Callable[[Store], Awaitable[list[tuple[str, str, str]]]]


async def _append(store: Store, stream: str, *collars: str) -> Loaded[Collars]:
    async def work(unit: Unit[None]) -> Loaded[Collars]:
        loaded = await load_one(unit, COLLARS, stream)
        return unit.append(loaded, [registered(stream, c) for c in collars], META)

    return await run_unit(store, work)


async def _state(store: Store, stream: str) -> Loaded[Collars]:
    async def work(unit: Unit[None]) -> Loaded[Collars]:
        return await load_one(unit, COLLARS, stream)

    return await run_unit(store, work)


class EventStoreContract:
    """What every event store promises the handlers."""

    outbox_of: OutboxOf
    stored: Callable[[Store, str], Awaitable[list[StoredEvent]]]

    async def test_a_new_stream_is_empty_at_version_zero(self, store: Store) -> None:
        loaded = await _state(store, "officer:new")
        assert (loaded.version, loaded.state) == (0, ())

    async def test_appended_events_fold_back_in_order(self, store: Store) -> None:
        await _append(store, "officer:a", "101", "102")
        await _append(store, "officer:a", "103")
        loaded = await _state(store, "officer:a")
        assert (loaded.version, loaded.state) == (3, ("101", "102", "103"))

    async def test_several_streams_load_in_the_order_asked(self, store: Store) -> None:
        await _append(store, "officer:b", "201")
        await _append(store, "officer:c", "301", "302")

        async def work(unit: Unit[None]) -> list[Loaded[Collars]]:
            return await unit.load(COLLARS, ["officer:c", "officer:none", "officer:b"])

        c, none, b = await run_unit(store, work)
        assert [c.state, none.state, b.state] == [("301", "302"), (), ("201",)]
        assert [c.version, none.version, b.version] == [2, 0, 1]

    async def test_a_stale_unit_conflicts_and_writes_nothing(self, store: Store) -> None:
        await _append(store, "officer:d", "401")
        with pytest.raises(StreamConflict):
            async with store.unit() as stale:
                loaded = await load_one(stale, COLLARS, "officer:d")
                other = await load_one(stale, COLLARS, "officer:e")
                await _append(store, "officer:d", "402")  # someone else wins the race
                stale.append(other, [registered("officer:e", "501")], META)
                stale.append(loaded, [registered("officer:d", "403")], META)
        assert (await _state(store, "officer:d")).state == ("401", "402")
        assert (await _state(store, "officer:e")).version == 0  # all or nothing

    async def test_run_unit_decides_again_after_a_conflict(self, store: Store) -> None:
        await _append(store, "officer:f", "601")
        seen: list[Collars] = []

        async def work(unit: Unit[None]) -> None:
            loaded = await load_one(unit, COLLARS, "officer:f")
            seen.append(loaded.state)
            if len(seen) == 1:
                await _append(store, "officer:f", "602")  # the race is lost the first time
            unit.append(loaded, [registered("officer:f", f"6{len(loaded.state) + 1:02d}")], META)

        await run_unit(store, work)
        assert seen == [("601",), ("601", "602")]
        assert (await _state(store, "officer:f")).state == ("601", "602", "603")

    async def test_run_unit_gives_up_when_the_stream_never_settles(self, store: Store) -> None:
        async def work(unit: Unit[None]) -> None:
            loaded = await load_one(unit, COLLARS, "officer:g")
            await _append(store, "officer:g", "x")
            unit.append(loaded, [registered("officer:g", "y")], META)

        with pytest.raises(TooMuchContention):
            await run_unit(store, work, attempts=3)

    async def test_a_stream_appended_twice_in_one_unit_keeps_its_order(self, store: Store) -> None:
        async def work(unit: Unit[None]) -> Loaded[Collars]:
            unit.append(await load_one(unit, COLLARS, "officer:h"), [registered("h", "1")], META)
            again = await load_one(unit, COLLARS, "officer:h")  # sees what this unit staged
            assert again.state == ("1",)
            return unit.append(again, [registered("h", "2")], META)

        after = await run_unit(store, work)
        assert after.state == ("1", "2")
        assert (await _state(store, "officer:h")).state == ("1", "2")

    async def test_every_event_gets_an_outbox_row_with_its_topic_and_key(self, store: Store) -> None:
        await _append(store, "officer:i", "901", "902")
        rows = await self.outbox_of(store)
        mine = [r for r in rows if r[0] == "officer:i"]
        assert [(topic, key) for _, topic, key in mine] == [("roster.events", "officer:i")] * 2

    async def test_each_event_hash_chains_to_the_previous_one(self, store: Store) -> None:
        await _append(store, "officer:j", "1")
        await _append(store, "officer:j", "2", "3")
        stored = await self.stored(store, "officer:j")
        assert [e.version for e in stored] == [1, 2, 3]
        previous: bytes | None = None
        for event in stored:
            assert event.hash == chain_hash(previous, event.envelope, event.version)
            previous = event.hash

    async def test_racing_units_each_land_once(self, store: Store) -> None:
        async def one(n: int) -> None:
            await _append(store, "officer:k", f"{n}")

        await asyncio.gather(*(one(n) for n in range(6)))
        loaded = await _state(store, "officer:k")
        assert loaded.version == 6 and sorted(loaded.state) == [str(n) for n in range(6)]
