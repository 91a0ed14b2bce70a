"""The outbox relay: publishes committed outbox rows to Kafka in order, and loses none.

Why it cannot skip a row: it never keeps a high-water mark. Each pass reads the
rows still marked unpublished, in id order, publishes them, then marks them. A
row whose transaction committed after a later id's (the known outbox trap) is
simply still unpublished on the next pass and goes out then. Per stream the
order holds because two transactions writing the same stream conflict on the
(stream, version) key, so the later row of a stream can only commit after the
earlier one is visible. Only one relay runs per database (a session advisory
lock), so two relays cannot interleave one stream's rows.

A crash between publish and mark would republish those rows on restart. To keep
each event on Kafka exactly once, the relay reconciles when it takes the lock:
it reads the tail of each partition it has unpublished rows for (the uncertain
part is at most one batch) and marks the event ids it finds there as published.
Consumers also skip event ids they have applied, as a second line of defence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from schemas.envelope import Envelope
from services.common import metrics
from services.common.db import session_connection
from services.common.eventstore import OUTBOX_CHANNEL
from services.common.logging import get_logger

log = get_logger(__name__)

RELAY_LOCK_KEY = 7_061_969
BATCH = 500

# (topic, key, value, headers) -> a future that resolves when the broker has the record.
Send = Callable[[str, bytes, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[Any]]]
# (topic, records per partition) -> the ce_id headers of the newest records of that topic.
RecentIds = Callable[[str, int], Awaitable[set[str]]]

# The backlog's size and age ride along (window totals are taken before the limit), so an
# idle pass is one statement.
_PENDING = """
select o.id, o.topic, o.key, o.created_at, e.stream_id, e.event_id, e.event_type,
       e.schema_version, e.data, e.correlation_id, e.causation_id, e.actor, e.occurred_at,
       count(*) over () as backlog, min(o.created_at) over () as oldest
from outbox o join events e on e.event_id = o.event_id
where o.published_at is null
order by o.id
limit $1
"""


class OutboxRelay:
    """Moves committed outbox rows onto Kafka; one per service database."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        send: Send,
        source: str,
        poll_seconds: float,
        recent_ids: RecentIds | None = None,
    ) -> None:
        self._pool = pool
        self._send = send
        self._recent_ids = recent_ids
        self._source = source
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Hold the relay lock, then publish until stopped."""
        async with session_connection(self._pool) as lock_conn:
            while not self._stopping.is_set():
                if await lock_conn.fetchval("select pg_try_advisory_lock($1)", RELAY_LOCK_KEY):
                    break
                await self._sleep(1.0)  # another relay has it; wait our turn
            if self._stopping.is_set():
                return
            await lock_conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
            try:
                await self.reconcile()
                while not self._stopping.is_set():
                    published = await self.publish_pending()
                    if published < BATCH:
                        await self._sleep(self._poll)
            finally:
                with contextlib.suppress(Exception):
                    await lock_conn.remove_listener(OUTBOX_CHANNEL, self._on_notify)
                    await lock_conn.execute("select pg_advisory_unlock($1)", RELAY_LOCK_KEY)

    def stop(self) -> None:
        """Ask the loop to finish after the current batch."""
        self._stopping.set()
        self._wake.set()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def reconcile(self) -> int:
        """Mark as published the pending rows already on Kafka (sent before a crash); returns how many."""
        if self._recent_ids is None:
            return 0
        async with self._pool.acquire() as conn:
            pending = await conn.fetch(
                "select o.id, o.topic, o.event_id from outbox o where o.published_at is null"
            )
        if not pending:
            return 0
        seen: set[str] = set()
        for topic in {r["topic"] for r in pending}:
            seen |= await self._recent_ids(topic, BATCH)
        already = [r["id"] for r in pending if str(r["event_id"]) in seen]
        if already:
            async with self._pool.acquire() as conn:
                await conn.execute(
                    "update outbox set published_at = clock_timestamp() where id = any($1::bigint[])", already
                )
            log.warning("outbox rows found already on Kafka after a restart", rows=len(already))
        return len(already)

    async def publish_pending(self) -> int:
        """One pass: publish up to a batch of unpublished rows, then mark them; returns how many."""
        rows = await self._pool.fetch(_PENDING, BATCH)
        metrics.RELAY_BACKLOG.set(rows[0]["backlog"] if rows else 0)
        metrics.RELAY_LAG.set((datetime.now(UTC) - rows[0]["oldest"]).total_seconds() if rows else 0.0)
        if not rows:
            return 0
        futures = []
        for row in rows:
            # Read back from our own store, already validated when it was appended.
            envelope = Envelope.model_construct(
                event_id=row["event_id"],
                event_type=row["event_type"],
                schema_version=row["schema_version"],
                source=self._source,
                subject=row["stream_id"],
                time=row["occurred_at"],
                correlation_id=row["correlation_id"],
                causation_id=row["causation_id"],
                actor=row["actor"],
                data=json.loads(row["data"]),
            )
            futures.append(
                await self._send(
                    row["topic"],
                    row["key"].encode(),
                    envelope.kafka_value(),
                    envelope.kafka_headers(),
                )
            )
        await asyncio.gather(*futures)
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            await conn.execute(
                "update outbox set published_at = $2 where id = any($1::bigint[])",
                [r["id"] for r in rows],
                now,
            )
        for row in rows:
            metrics.RELAY_PUBLISHED.labels(row["topic"]).inc()
            metrics.RELAY_DELAY.observe((now - row["created_at"]).total_seconds())
        log.debug("outbox published", rows=len(rows))
        return len(rows)
