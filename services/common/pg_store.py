"""The event store on PostgreSQL: units of work over one connection and at most one transaction.

Folded states are cached in the process by (fold tag, stream): a unit then reads only
the events appended since the cached version (one query for every stream it needs),
so a busy diary day is not refolded from its first event on every booking. The cache
is only a starting point: the tail is always read inside the unit's transaction, and
only states committed by this process's own units are written back.

A unit's writes end in one statement: its appends, their outbox rows and the view rows
that go with them (``UnitWrites.with_append``). A store made ``lazy`` reads without a
transaction and opens one only when a view writes on its own (``UnitWrites.begin``): a
command whose only write is that statement commits in one round trip, with no BEGIN or
COMMIT. Under READ COMMITTED a transaction around the reads gave them no common snapshot
anyway; the versions checked by the append, and the views' constraints, are what guard.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
from asyncpg.transaction import Transaction

from services.common.db import ACQUIRE_SECONDS, is_outage
from services.common.eventstore import Companion, append_streams, load_streams
from services.common.logging import get_logger
from services.common.staging import StagedUnit
from services.common.unit_of_work import Fold, Loaded, S, as_domain_event

V = TypeVar("V")
log = get_logger(__name__)
CACHE_STREAMS = 4096


class StateCache:
    """The most recently used folded states, by (fold tag, stream id)."""

    def __init__(self, size: int = CACHE_STREAMS) -> None:
        self._size = size
        self._states: OrderedDict[tuple[str, str], Loaded[Any]] = OrderedDict()

    def get(self, tag: str, stream_id: str) -> Loaded[Any] | None:
        """A cached state, if any (and marks it recently used)."""
        found = self._states.get((tag, stream_id))
        if found is not None:
            self._states.move_to_end((tag, stream_id))
        return found

    def put(self, tag: str, loaded: Loaded[Any]) -> None:
        """Remember a committed state, forgetting the least recently used beyond the size."""
        key = (tag, loaded.stream_id)
        current = self._states.get(key)
        if current is not None and current.version > loaded.version:
            return  # a newer state is already known
        self._states[key] = loaded
        self._states.move_to_end(key)
        while len(self._states) > self._size:
            self._states.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (e.g. when the reference data changes)."""
        self._states.clear()


class UnitWrites(Protocol):
    """What a service's views use of their unit to write."""

    async def begin(self) -> None:
        """Make sure the unit's transaction is open: call before any write of one's own."""
        ...

    def with_append(self, companion: Companion) -> None:
        """Write ``companion`` in the unit's final statement, with its appends."""
        ...


Views = Callable[[asyncpg.Connection, UnitWrites], V]


class PgUnit(StagedUnit[V]):
    """One unit of work on one connection, in one transaction or, when its writes allow, none."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        source: str,
        views: Views[V],
        cache: StateCache | None,
        *,
        commits: bool,
        lazy: bool,
    ) -> None:
        super().__init__(source, views(conn, self))
        self.conn = conn
        self._cache = cache
        self._commits = commits
        self._lazy = lazy
        self._companions: list[Companion] = []
        self._transaction: Transaction | None = None

    async def begin(self) -> None:
        """Open the unit's transaction, if it is lazy and has none yet."""
        if self._lazy and self._transaction is None:
            self._transaction = self.conn.transaction()
            await self._transaction.start()

    def with_append(self, companion: Companion) -> None:
        """Write ``companion`` in the same statement as the unit's appends."""
        self._companions.append(companion)

    async def load(self, fold: Fold[S, Any], stream_ids: Sequence[str]) -> list[Loaded[S]]:
        """Several streams' states in one query: from the cache and the events since, or from the start."""
        bases: dict[str, Loaded[S]] = {}
        for stream in stream_ids:
            if stream in self._current or stream in bases:
                continue
            cached = self._cache.get(fold.tag, stream) if self._cache and fold.tag else None
            bases[stream] = cached or Loaded(stream, 0, fold.initial(stream), None, fold)
        if bases:
            tails = await load_streams(self.conn, {s: b.version for s, b in bases.items()}, self._source)
            for stream, base in bases.items():
                tail = tails[stream]
                if tail:
                    state = fold.over(base.state, [as_domain_event(e) for e in tail])
                    base = Loaded(stream, tail[-1].version, state, tail[-1].hash, fold)
                self._current[stream] = base
        return [self._current[s] for s in stream_ids]

    async def finish(self) -> None:
        """Write every staged event, outbox row and companion in one statement; commit if in a transaction."""
        if self._staged or self._companions:
            done = await append_streams(self.conn, list(self._staged.values()), self._companions)
            for appended in done:
                before = self._current[appended.stream_id]
                self._current[appended.stream_id] = Loaded(
                    appended.stream_id, appended.version, before.state, appended.hash, before.fold
                )
            self._staged.clear()
            self._companions.clear()
        if self._transaction is not None:
            await self._transaction.commit()

    @property
    def lazy(self) -> bool:
        """Whether the unit opens its transaction only when a view first writes on its own."""
        return self._lazy

    async def abandon(self) -> None:
        """Roll back what the unit wrote, if it wrote anything (a broken connection is dropped on release)."""
        if self._transaction is not None:
            try:
                await self._transaction.rollback()
            except Exception as exc:
                log.warning("rollback failed", error=type(exc).__name__)

    def remember(self) -> None:
        """After commit: keep the states this unit saw and made, for the next unit."""
        if self._cache is None or not self._commits:
            return
        for loaded in self._current.values():
            if loaded.fold is not None and loaded.fold.tag and (loaded.version == 0 or loaded.hash):
                self._cache.put(loaded.fold.tag, loaded)


class PgEventStore(Generic[V]):
    """A service's event store on its PostgreSQL pool; ``views`` binds its tables to a unit.

    ``lazy``: its views call ``UnitWrites.begin`` before every write of their own, so a
    unit opens a transaction only when it needs one. Otherwise every unit opens one first.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        source: str,
        views: Views[V],
        *,
        cache: bool = True,
        lazy: bool = False,
        acquire_seconds: float = ACQUIRE_SECONDS,
    ) -> None:
        self.pool = pool
        self.source = source
        self._acquire_seconds = acquire_seconds
        self._views = views
        self._lazy = lazy
        self.cache = StateCache() if cache else None

    @asynccontextmanager
    async def unit(self, within: asyncpg.Connection | None = None) -> AsyncIterator[PgUnit[V]]:
        """A unit of work on its own connection, or in a savepoint ``within`` a caller's transaction."""
        # A pool busy for longer than acquire_seconds raises TimeoutError: an outage, answered 503.
        conn = within if within is not None else await self.pool.acquire(timeout=self._acquire_seconds)
        broken = False
        try:
            # Inside a caller's transaction nothing is committed here: it may start from cached
            # states (the tail is read all the same) but keeps none of its own.
            own = within is None
            unit = PgUnit(conn, self.source, self._views, self.cache, commits=own, lazy=own and self._lazy)
            if unit.lazy:
                try:
                    yield unit
                    await unit.finish()
                except BaseException:
                    await unit.abandon()
                    raise
            else:
                async with conn.transaction():
                    yield unit
                    await unit.finish()
        except BaseException as exc:
            broken = is_outage(exc)
            raise
        finally:
            if within is None:
                if broken:
                    conn.terminate()  # its server went away: the pool makes a new one, never reuses it
                await self._give_back(conn)
        unit.remember()

    async def _give_back(self, conn: asyncpg.Connection) -> None:
        # Once the unit has committed, a failure to return its connection must not turn that
        # success into an error (a call taker would retry and book twice): drop the connection.
        try:
            await self.pool.release(conn)
        except Exception as exc:
            log.warning("connection not given back; dropped", error=type(exc).__name__)
            conn.terminate()
