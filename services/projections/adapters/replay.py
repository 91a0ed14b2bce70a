"""Rebuild read models from the topics into fresh tables, then swap them in, the live views answering.

**Where it runs: in the operator's process, as the database owner, not in the projections
service.** Rebuilding makes tables and swapping renames them: the owner's rights, which the
service's own login role does not have and should not get (it may only read and write rows,
``services.common.db``). A rebuild also takes a whole core for its length; in the service it
would share an event loop with the HTTP views it is meant to leave answering. The service needs
no part in it: it goes on applying to the live tables, and is paused only for the moment of the
swap by the lock its own applies take first (below).

**How.** Every table of the chosen models is made again, empty, in the schema
``projections_rebuild`` (``create table ... (like ...)``: the same columns in the same order, so
a prepared ``select *`` reads the new table as it read the old), with fresh ``consumer_offsets``
and ``applied_events`` of its own. Each consumer feeding the models reads its topic from the
beginning through ``IdempotentConsumer`` itself, on connections whose ``search_path`` is that
schema and nothing else: the same contract checks (a registered type and version, upcast,
validated), the same event-id and offset bookkeeping and the same applies (``adapters.models``:
a consumer's live apply whenever the replay covers every model it feeds), a fetch per
transaction; each table's rows and its positions are written in one transaction, as live. A
record the contract refuses is not applied; it is counted, not dead-lettered again (the live
consumer did that when it met it). From ``WORKERS_FROM`` records on, forked worker processes
share the bulk, each on its own partitions (as members of the live consumer group share them):
reading, validating and folding events is most of a rebuild's CPU, and one process has one
core. This process follows their committed positions for the progress, then goes on alone.

**Consistent with the live positions.** The rebuild never goes past where the live consumers
stand (their ``consumer_offsets``, read again after every fetch): it rebuilds up to them, then
builds the secondary indexes, catches up again, and swaps in one transaction that first takes
``consumer_offsets`` in EXCLUSIVE mode. Every live apply begins by locking its positions there
(``select ... for update``), so this waits for an apply in flight to commit and holds back the
next; the live positions are then fixed, the rebuild applies the few records between its
positions and theirs, checks that its own positions now equal theirs partition by partition,
and moves the old tables out and the rebuilt ones in (``alter table ... set schema``). A
consumer whose every model was rebuilt gets the rebuilt positions and applied ids too. On
commit the live consumers go on from exactly where the swapped-in tables stand. The views wait
only for the swap's renames (milliseconds); a statement holding a table longer makes the swap
give up after ``LOCK_TIMEOUT`` rather than hold the views back, and it is tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.common.config import Settings
from services.common.consumer import IdempotentConsumer, Record
from services.common.logging import get_logger
from services.common.shredding import KEYSTORE_DATABASE
from services.projections.adapters.erasure import erase_subjects_in, erased_subjects
from services.projections.adapters.models import Feed, Model, covers, feeds_of, models_named, replay_apply

log = get_logger(__name__)

SHADOW = "projections_rebuild"
# Where `--keep-replaced` leaves the tables a replay replaced (until the next replay).
REPLACED = "projections_replaced"
POSITION_TABLES = ("consumer_offsets", "applied_events")
# One replay at a time per projections database (a session advisory lock).
REPLAY_LOCK = 7_061_980
# Records a rebuild transaction applies: more than a live fetch (1,000), fewer round trips.
BATCH_RECORDS = 4_000
# Transactions applied at once, each on its own partitions of a topic (as members of a consumer
# group would): while one waits for PostgreSQL, the other's records are read and validated.
# A fetch holds at most LANES * BATCH_RECORDS records, fewer than the envelopes' cache of parsed
# events (8,192, schemas.envelope): past it, the apply validated each event a second time.
LANES = 2
# Processes sharing the bulk of a rebuild, each on its own partitions (as members of a consumer
# group): reading, validating and folding events is most of a rebuild's CPU, and one process
# has one core. Forked, so none imports anything again. Below WORKERS_FROM records to rebuild,
# one process does it all: a fork costs more than it saves.
WORKERS = 2
WORKERS_FROM = 10_000
FETCH_WAIT_MS = 200
# Kafka handing over nothing this long while records are still to come is a broken broker.
STALL_SECONDS = 60.0
# How long the swap waits for a table a view or an apply holds before trying again.
LOCK_TIMEOUT = "5s"
SWAP_TRIES = 5
# The cyclic garbage collector's first threshold while rebuilding (as the service's, main.py).
GC_THRESHOLD = 50_000

Partition = tuple[str, int]
Limits = dict[TopicPartition, int]


class ReplayFailed(Exception):
    """The replay could not be finished; nothing was swapped in, the live tables are as they were."""


@dataclass(frozen=True)
class Progress:
    """How far a replay is: records handled of those the live consumers have applied, and its phase."""

    phase: str  # "rebuilding", "indexing", "swapping", "swapped"
    done: int
    total: int
    seconds: float

    @property
    def rate(self) -> float:
        """Records a second since the start."""
        return self.done / self.seconds if self.seconds > 0 else 0.0


OnProgress = Callable[[Progress], Awaitable[None]]


async def _quiet(_: Progress) -> None:
    return None


@dataclass
class ReplayReport:
    """What a replay did."""

    models: list[str]
    tables: list[str]
    # applied, duplicate, deadlettered (refused by the contract: not applied)
    outcomes: Counter[str] = field(default_factory=Counter)
    # (consumer, topic, partition) -> next offset: where the live consumers went on from
    positions: dict[tuple[str, str, int], int] = field(default_factory=dict)
    # consumers whose positions and applied ids were swapped in with the tables
    positions_swapped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # how long the live appliers and the views were held by the swap's transaction
    swap_seconds: float = 0.0
    # records on the topics past the live positions at the swap (the live consumers not there yet)
    unapplied: int = 0
    # rebuilt history events whose values sealed for an erased subject were emptied again
    erased_again: int = 0

    @property
    def records(self) -> int:
        """Records the rebuild handled."""
        return sum(self.outcomes.values())

    @property
    def rate(self) -> float:
        """Records a second, start to swap."""
        return self.records / self.seconds if self.seconds > 0 else 0.0


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def collecting_less() -> Iterator[None]:
    """The service's garbage-collector setting (main.collect_less) for the rebuild, then back."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


async def _copy_grants(conn: asyncpg.Connection, table: str, target: str) -> None:
    """Grant on ``target`` what the live ``table`` grants (the service's login role's rights)."""
    rows = await conn.fetch(
        "select case when a.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(a.grantee)) end"
        " as grantee, a.privilege_type from pg_class c, aclexplode(c.relacl) a"
        " where c.oid = $1::regclass and a.grantee <> c.relowner",
        f"public.{table}",
    )
    for r in rows:
        await conn.execute(f"grant {r['privilege_type']} on {target} to {r['grantee']}")


@dataclass(frozen=True)
class _Index:
    """A secondary index of a live table, made on its rebuilt copy once the rows are in."""

    table: str
    name: str
    definition: str


async def _make_shadow_table(conn: asyncpg.Connection, table: str) -> list[_Index]:
    """An empty copy of ``public.table`` in the shadow schema, its keys and constraints made now.

    Keys are needed while rows go in (the applies upsert on them); a plain index is only
    read by the views, so it is returned to be built after the rows, keeping its live name.
    """
    target = f"{SHADOW}.{_ident(table)}"
    await conn.execute(
        f"create table {target} (like public.{_ident(table)} including defaults including constraints"
        " including storage including compression including generated including identity)"
    )
    constraints = await conn.fetch(
        "select conname, pg_get_constraintdef(oid) as definition, conindid from pg_constraint"
        " where conrelid = $1::regclass and contype in ('p', 'u', 'x', 'f') order by contype, conname",
        f"public.{table}",
    )
    for c in constraints:
        await conn.execute(f"alter table {target} add constraint {_ident(c['conname'])} {c['definition']}")
    backing = {c["conindid"] for c in constraints}
    indexes = await conn.fetch(
        "select i.indexrelid, c.relname, i.indisunique, pg_get_indexdef(i.indexrelid) as definition"
        " from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = $1::regclass",
        f"public.{table}",
    )
    later: list[_Index] = []
    for i in indexes:
        if i["indexrelid"] in backing:
            continue
        on_live = re.compile(
            rf" ON (public\.)?{re.escape(_ident(table))} | ON (public\.)?{re.escape(table)} "
        )
        definition, found = on_live.subn(f" ON {target} ", i["definition"], count=1)
        if not found:
            raise ReplayFailed(f"cannot read the definition of index {i['relname']} of {table}")
        if i["indisunique"]:
            await conn.execute(definition)  # an upsert may rely on it
        else:
            later.append(_Index(table, i["relname"], definition))
    await _copy_grants(conn, table, target)
    return later


class _Reader:
    """The topics of the replayed consumers, read from their beginning up to the live positions."""

    def __init__(self, consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]) -> None:
        self._consumer = consumer
        self.partitions = list(partitions)
        self.next: dict[TopicPartition, int] = {}
        self.first: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        self._consumer.assign(self.partitions)
        if self.partitions:
            self.first = dict(await self._consumer.beginning_offsets(self.partitions))
            await self._consumer.seek_to_beginning(*self.partitions)
        self.next = dict(self.first)

    def move_to(self, positions: Mapping[TopicPartition, int]) -> None:
        """Go on from ``positions`` (where workers left each partition; the start where none went)."""
        for tp in self.partitions:
            self.next[tp] = positions.get(tp, self.first[tp])
            self._consumer.seek(tp, self.next[tp])

    def pause(self) -> None:
        """Fetch nothing meanwhile (workers read these partitions)."""
        self._consumer.pause(*self.partitions)

    def behind(self, limits: Limits) -> int:
        """Records still to rebuild before reaching ``limits``."""
        return sum(max(0, limits.get(tp, 0) - self.next[tp]) for tp in self.partitions)

    def total(self, limits: Limits) -> int:
        """Records up to ``limits`` from the start of each partition."""
        return sum(max(0, limits.get(tp, 0) - self.first[tp]) for tp in self.partitions)

    async def fetch(self, limits: Limits, max_records: int) -> list[Record]:
        """The next records below ``limits`` (what Kafka has ready, at most ``max_records``)."""
        wanted = [tp for tp in self.partitions if self.next[tp] < limits.get(tp, 0)]
        if not wanted:
            return []
        self._consumer.pause(*[tp for tp in self.partitions if tp not in wanted])
        self._consumer.resume(*wanted)
        stalled_since = time.monotonic()
        while True:
            fetched = await self._consumer.getmany(*wanted, timeout_ms=FETCH_WAIT_MS, max_records=max_records)
            if fetched:
                break
            if time.monotonic() - stalled_since > STALL_SECONDS:
                where = ", ".join(f"{tp.topic}[{tp.partition}] at {self.next[tp]}" for tp in wanted)
                raise ReplayFailed(f"Kafka handed over nothing for {STALL_SECONDS:.0f} s: {where}")
        records: list[Record] = []
        for tp, found in fetched.items():
            limit = limits.get(tp, 0)
            kept = [r for r in found if r.offset < limit]
            if len(kept) < len(found):
                # Past where the live consumer stands: it comes again once that has applied it.
                self._consumer.seek(tp, limit)
            if kept:
                self.next[tp] = kept[-1].offset + 1
                records.extend(kept)
        return records


def _rebuild_part(
    cfg: Settings, models: list[str], partitions: list[tuple[str, int]], batch_records: int, lanes: int
) -> dict[str, int]:
    """A worker process's rebuild of its partitions (``Replay.rebuild_partitions``); its outcomes."""
    replay = Replay(cfg, models_named(models), batch_records=batch_records, lanes=lanes, workers=1)
    try:
        return dict(asyncio.run(replay.rebuild_partitions([TopicPartition(t, p) for t, p in partitions])))
    except Exception as exc:
        # Told in words: a driver's exception may not survive the way back to the parent.
        raise ReplayFailed(f"a worker failed: {type(exc).__name__}: {exc}") from None


class Replay:
    """One replay of some read models of one projections database (see the module's docstring)."""

    def __init__(
        self,
        cfg: Settings,
        models: Sequence[Model],
        *,
        batch_records: int = BATCH_RECORDS,
        lanes: int = LANES,
        workers: int = WORKERS,
        workers_from: int = WORKERS_FROM,
        keep_replaced: bool = False,
        on_progress: OnProgress = _quiet,
    ) -> None:
        self._cfg = cfg
        self._models = list(models)
        self._feeds = feeds_of(self._models)
        self._batch_records = batch_records
        self._lanes = max(1, lanes)
        self._workers = max(1, workers)
        self._workers_from = workers_from
        self._keep_replaced = keep_replaced
        self._on_progress = on_progress
        self._tables = [t for m in self._models for t in m.tables]
        # Consumers that feed no model left out: their positions and applied ids go in with the tables.
        self._covered = [f.consumer for f in self._feeds if covers(self._models, f.consumer)]
        self.report = ReplayReport([m.name for m in self._models], list(self._tables))
        self._started = 0.0
        self._indexes: list[_Index] = []

    @property
    def url(self) -> str:
        """The owner's URL of the projections database."""
        return self._cfg.database_url("projections")

    def _wire(self, feed: Feed) -> str:
        return self._cfg.topic(feed.topic)

    async def run(self) -> ReplayReport:
        """Rebuild, catch up with the live consumers, swap; ReplayFailed leaves the live tables be."""
        self._started = time.perf_counter()
        owner: asyncpg.Connection = await asyncpg.connect(self.url)
        try:
            if not await owner.fetchval("select pg_try_advisory_lock($1)", REPLAY_LOCK):
                raise ReplayFailed("another replay of this database is running")
            try:
                with collecting_less():
                    await self._replay(owner)
            except BaseException:
                with contextlib.suppress(Exception):
                    await owner.execute(f"drop schema if exists {SHADOW} cascade")
                raise
        finally:
            await owner.close()  # the advisory lock goes with the session
        self.report.seconds = time.perf_counter() - self._started
        log.info(
            "replay swapped in", models=self.report.models, records=self.report.records,
            outcomes=dict(self.report.outcomes), seconds=round(self.report.seconds, 3),
            swap_seconds=round(self.report.swap_seconds, 3),
        )  # fmt: skip
        return self.report

    async def _replay(self, owner: asyncpg.Connection) -> None:
        log.info("replay started", models=self.report.models, tables=self._tables)
        await self._prepare(owner)
        async with self._kafka() as kafka, self._shadow_pool() as pool:
            reader = _Reader(kafka, await self._partitions())
            await reader.start()
            if self._workers > 1 and reader.behind(await self._live(owner)) >= self._workers_from:
                await self._in_workers(owner, reader)
            consumers = self._consumers(pool)
            by_topic = {self._wire(f): consumers[f.consumer] for f in self._feeds}
            await self._catch_up(owner, reader, by_topic)
            await self._report("indexing", reader, await self._live(owner))
            await self._build_indexes(pool)
            await self._catch_up(owner, reader, by_topic)
            await self._swap(owner, reader, by_topic)
            ends = await kafka.end_offsets(reader.partitions) if reader.partitions else {}
            self.report.unapplied = sum(max(0, end - reader.next[tp]) for tp, end in ends.items())
        await owner.execute(f"drop schema if exists {SHADOW} cascade")

    @contextlib.asynccontextmanager
    async def _kafka(self) -> AsyncIterator[AIOKafkaConsumer]:
        kafka = AIOKafkaConsumer(
            bootstrap_servers=self._cfg.kafka_bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await kafka.start()
        try:
            yield kafka
        finally:
            await kafka.stop()

    async def _partitions(self) -> list[TopicPartition]:
        """Every partition of the replayed consumers' topics (one admin client, one request)."""
        topics = [self._wire(feed) for feed in self._feeds]
        admin = AIOKafkaAdminClient(bootstrap_servers=self._cfg.kafka_bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics(topics)
        finally:
            await admin.close()
        found = {d["topic"]: sorted(p["partition"] for p in d.get("partitions", [])) for d in described}
        return [TopicPartition(topic, p) for topic in topics for p in found.get(topic, [])]

    async def _in_workers(self, owner: asyncpg.Connection, reader: _Reader) -> None:
        """The bulk of the rebuild in forked processes, each on its own partitions; this one watches."""
        reader.pause()
        groups = [reader.partitions[k :: self._workers] for k in range(self._workers)]
        names = [m.name for m in self._models]
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(len(groups), mp_context=multiprocessing.get_context("fork")) as processes:
            parts = [
                loop.run_in_executor(
                    processes, _rebuild_part, self._cfg, names,
                    [(tp.topic, tp.partition) for tp in group], self._batch_records, self._lanes,
                )
                for group in groups
                if group
            ]  # fmt: skip
            pending: set[asyncio.Future[dict[str, int]]] = set(parts)
            while pending:
                _, pending = await asyncio.wait(pending, timeout=0.2)
                reader.move_to(await self._rebuilt(owner))
                await self._report("rebuilding", reader, await self._live(owner))
            for part in parts:
                self.report.outcomes.update(part.result())
        reader.move_to(await self._rebuilt(owner))

    async def _rebuilt(self, conn: asyncpg.Connection) -> dict[TopicPartition, int]:
        """Where the rebuild stands, per partition (its own positions, committed)."""
        rows = await conn.fetch(f"select topic, partition, next_offset from {SHADOW}.consumer_offsets")
        return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    async def rebuild_partitions(self, partitions: Sequence[TopicPartition]) -> Counter[str]:
        """A worker's part: rebuild ``partitions`` up to where the live consumers stand."""
        owner: asyncpg.Connection = await asyncpg.connect(self.url)
        try:
            async with self._kafka() as kafka, self._shadow_pool() as pool:
                reader = _Reader(kafka, partitions)
                await reader.start()
                consumers = self._consumers(pool)
                by_topic = {self._wire(f): consumers[f.consumer] for f in self._feeds}
                await self._catch_up(owner, reader, by_topic)
        finally:
            await owner.close()
        return self.report.outcomes

    @contextlib.asynccontextmanager
    async def _shadow_pool(self) -> AsyncIterator[asyncpg.Pool]:
        # Only the shadow schema is on the path: a table the rebuild lacks is an error, never the live one.
        # Its commits need not wait for the disk: a crash loses only the rebuild, and the swap's
        # commit (synchronous) comes after every one of them in the log.
        pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=self._lanes + 1,
            server_settings={"search_path": SHADOW, "synchronous_commit": "off"},
        )
        assert pool is not None
        try:
            yield pool
        finally:
            await pool.close()

    def _consumers(self, pool: asyncpg.Pool) -> dict[str, IdempotentConsumer]:
        async def refused(
            topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
        ) -> None:
            """The live consumer put it on the dead-letter topic when it met it; once is enough."""

        made: dict[str, IdempotentConsumer] = {}
        for feed in self._feeds:
            apply, apply_batch = replay_apply(feed, self._models)
            made[feed.consumer] = IdempotentConsumer(
                feed.consumer, pool, apply, refused, apply_batch, wants=None, contract=True
            )
        return made

    async def _prepare(self, owner: asyncpg.Connection) -> None:
        """An empty shadow schema holding an empty copy of every table rebuilt, and positions of its own."""
        missing = [
            t for t in (*self._tables, *POSITION_TABLES)
            if not await owner.fetchval("select to_regclass($1) is not null", f"public.{t}")
        ]  # fmt: skip
        if missing:
            raise ReplayFailed(
                f"the projections database has no {', '.join(missing)}: start the projections service"
                " once, so it migrates it"
            )
        async with owner.transaction():
            await owner.execute(f"drop schema if exists {SHADOW} cascade; create schema {SHADOW}")
            for table in (*self._tables, *POSITION_TABLES):
                self._indexes += await _make_shadow_table(owner, table)

    async def _live(self, conn: asyncpg.Connection) -> Limits:
        """Where each live consumer of the replayed models stands, per partition of its topic."""
        rows = await conn.fetch(
            "select consumer, topic, partition, next_offset from public.consumer_offsets"
            " where consumer = any($1::text[])",
            [f.consumer for f in self._feeds],
        )
        topics = {f.consumer: self._wire(f) for f in self._feeds}
        return {
            TopicPartition(r["topic"], r["partition"]): r["next_offset"]
            for r in rows
            if topics[r["consumer"]] == r["topic"]
        }

    async def _report(self, phase: str, reader: _Reader, limits: Limits) -> None:
        done = reader.total(limits) - reader.behind(limits)
        await self._on_progress(
            Progress(phase, done, reader.total(limits), time.perf_counter() - self._started)
        )

    async def _apply(self, records: Sequence[Record], by_topic: Mapping[str, IdempotentConsumer]) -> None:
        """Apply a fetch: a transaction per topic and lane, the lanes at once (a partition in one lane)."""
        lanes: dict[tuple[str, int], list[Record]] = {}
        for r in records:
            lanes.setdefault((r.topic, r.partition % self._lanes), []).append(r)

        async def lane(topic: str, recs: list[Record]) -> None:
            self.report.outcomes.update(await by_topic[topic].handle_batch(recs))

        await asyncio.gather(*(lane(topic, recs) for (topic, _), recs in lanes.items()))

    async def _catch_up(
        self, owner: asyncpg.Connection, reader: _Reader, by_topic: Mapping[str, IdempotentConsumer]
    ) -> None:
        """Rebuild up to where the live consumers stand, following them as they go on."""
        while True:
            limits = await self._live(owner)
            if not reader.behind(limits):
                await self._report("rebuilding", reader, limits)
                return
            records = await reader.fetch(limits, self._batch_records * self._lanes)
            await self._apply(records, by_topic)
            await self._report("rebuilding", reader, limits)

    async def _build_indexes(self, pool: asyncpg.Pool) -> None:
        """Each rebuilt table's secondary indexes and statistics, the tables at once."""

        async def finish(table: str) -> None:
            async with pool.acquire() as conn:
                for index in self._indexes:
                    if index.table == table:
                        await conn.execute(index.definition)
                # Statistics for what queries filter and join on; an event's JSON data is only
                # read (sampling it was most of the analysis of the history).
                columns = await conn.fetchval(
                    "select string_agg(quote_ident(column_name), ', ') from information_schema.columns"
                    " where table_schema = $1 and table_name = $2 and data_type not in ('json', 'jsonb')",
                    SHADOW,
                    table,
                )
                await conn.execute(f"analyze {SHADOW}.{_ident(table)} ({columns})")

        await asyncio.gather(*(finish(t) for t in (*self._tables, *POSITION_TABLES)))

    async def _swap(
        self, owner: asyncpg.Connection, reader: _Reader, by_topic: Mapping[str, IdempotentConsumer]
    ) -> None:
        for attempt in range(1, SWAP_TRIES + 1):
            try:
                await self._swap_once(owner, reader, by_topic)
                return
            except asyncpg.LockNotAvailableError:
                log.warning("replay swap waited too long for a table; trying again", attempt=attempt)
                await self._catch_up(owner, reader, by_topic)
        raise ReplayFailed(f"the tables stayed busy: no swap after {SWAP_TRIES} tries")

    async def _swap_once(
        self, owner: asyncpg.Connection, reader: _Reader, by_topic: Mapping[str, IdempotentConsumer]
    ) -> None:
        held = time.perf_counter()
        async with owner.transaction():
            await owner.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
            # Every live apply locks its positions first: from here on none is in flight.
            await owner.execute("lock table public.consumer_offsets in exclusive mode")
            limits = await self._live(owner)
            await self._report("swapping", reader, limits)
            while reader.behind(limits):
                await self._apply(await reader.fetch(limits, self._batch_records * self._lanes), by_topic)
            await self._check_positions(owner, limits)
            if "event_history" in self._tables:
                # The topics still carry erased callers' ciphertext: empty it, as erasure did live.
                self.report.erased_again = await erase_subjects_in(
                    owner, await self._erased(), f"{SHADOW}.event_history"
                )
            whole = await self._positions_whole(owner)
            tables = [*self._tables, *(POSITION_TABLES if whole else ())]
            await owner.execute(
                f"lock table {', '.join(f'public.{_ident(t)}' for t in tables)} in access exclusive mode"
            )
            if self._keep_replaced:
                await owner.execute(f"drop schema if exists {REPLACED} cascade; create schema {REPLACED}")
            for table in tables:
                if self._keep_replaced:
                    await owner.execute(f"alter table public.{_ident(table)} set schema {REPLACED}")
                else:
                    await owner.execute(f"drop table public.{_ident(table)}")
                await owner.execute(f"alter table {SHADOW}.{_ident(table)} set schema public")
            if not whole and self._covered:
                for table in POSITION_TABLES:
                    await owner.execute(
                        f"delete from public.{table} where consumer = any($1::text[])", self._covered
                    )
                    await owner.execute(
                        f"insert into public.{table} select * from {SHADOW}.{table}"
                        " where consumer = any($1::text[])",
                        self._covered,
                    )
            self.report.positions = {
                (r["consumer"], r["topic"], r["partition"]): r["next_offset"]
                for r in await owner.fetch(
                    "select * from public.consumer_offsets where consumer = any($1::text[])",
                    [f.consumer for f in self._feeds],
                )
            }
        self.report.positions_swapped = list(self._covered)
        self.report.swap_seconds = time.perf_counter() - held
        await self._report("swapped", reader, limits)

    async def _erased(self) -> list[str]:
        """The subjects erased so far (none when there is no key store yet)."""
        try:
            keystore = await asyncpg.connect(self._cfg.database_url(KEYSTORE_DATABASE))
        except asyncpg.InvalidCatalogNameError:
            return []
        try:
            return await erased_subjects(keystore)
        finally:
            await keystore.close()

    async def _check_positions(self, owner: asyncpg.Connection, limits: Limits) -> None:
        """The rebuilt tables stand exactly where the live consumers stand, partition by partition."""
        rows = await owner.fetch(
            f"select consumer, topic, partition, next_offset from {SHADOW}.consumer_offsets"
        )
        rebuilt = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        live = {tp: offset for tp, offset in limits.items() if offset > 0}
        if rebuilt != live:
            differ = sorted(
                f"{tp.topic}[{tp.partition}]: rebuilt {rebuilt.get(tp)}, live {live.get(tp)}"
                for tp in set(rebuilt) | set(live)
                if rebuilt.get(tp) != live.get(tp)
            )
            raise ReplayFailed(f"the rebuilt positions are not the live ones: {'; '.join(differ)}")

    async def _positions_whole(self, owner: asyncpg.Connection) -> bool:
        """Whether the rebuilt position tables may replace the live ones whole (no other consumer in them)."""
        others = await owner.fetchval(
            "select count(*) from public.consumer_offsets where consumer <> all($1::text[])", self._covered
        )
        return bool(self._covered) and others == 0
