"""Wiring of the projections service: consumers of every event topic, and the query API."""

from __future__ import annotations

import gc
from contextlib import AsyncExitStack
from pathlib import Path

from fastapi import FastAPI

from services.common.runtime import Runtime
from services.common.wiring import Consumer, service_app
from services.projections.adapters import (
    availability,
    backfill,
    finder,
    kpis,
    moved_away,
    officers_day,
    texts,
    waitlist,
)
from services.projections.adapters.access_log_http import router as access_log_router
from services.projections.adapters.http import router
from services.projections.adapters.kpis_http import router as kpis_router
from services.projections.adapters.models import FEEDS, Feed

SERVICE = "projections"
MIGRATIONS = Path(__file__).with_name("migrations")


# Consumer names are also the Kafka group ids; each feed's applies are in adapters.models, which
# a replay shares. The read models need no handlers: each apply writes straight into the
# projections database, a whole Kafka fetch per transaction (a refused one halved until a
# poison record is alone).
def _consumer(feed: Feed) -> Consumer[Runtime]:
    return Consumer(feed.consumer, feed.topic, lambda _: feed.apply, lambda _: feed.apply_batch)


CONSUMERS: tuple[Consumer[Runtime], ...] = tuple(_consumer(feed) for feed in FEEDS)


# The cyclic garbage collector's first threshold (Python's is 700 allocations).
GC_THRESHOLD = 50_000


def collect_less() -> None:
    """Keep the garbage collector from rescanning a batch's objects over and over.

    A batch of thousands of events keeps several objects per event alive until it commits
    (envelopes, events, rows), none of them in a cycle; at Python's thresholds the collector
    walked them, and every module and model of the process, again and again: near half of a
    batch's CPU. What exists once the service is up is frozen (never scanned again).
    """
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


async def wire(runtime: Runtime, cleanups: AsyncExitStack) -> Runtime:
    """Index what was recorded before the diary-days index existed, open the key store (read-only)."""
    # Consumers wait for this (they apply only once wired), so the index misses nothing.
    async with runtime.db.acquire() as conn:
        await backfill.index_recorded_days(conn)
        await kpis.fold_recorded_history(conn)  # once, for a history recorded before the KPIs
        await texts.fold_recorded_history(conn)  # once, likewise for the texts
        await availability.fold_recorded_history(conn)  # and for availability
        await waitlist.fold_recorded_history(conn)  # and for the waitlist
    await officers_day.wire_keys(runtime, cleanups)
    collect_less()
    return runtime


def create_app() -> FastAPI:
    """The projections service's ASGI app."""
    return service_app(
        SERVICE,
        MIGRATIONS,
        wire=wire,
        routers=[
            router,
            kpis_router,
            officers_day.router,
            access_log_router,
            texts.router,
            availability.router,
            finder.router,
            moved_away.router,
            waitlist.router,
        ],
        consumers=CONSUMERS,
    )
