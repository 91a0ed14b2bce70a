"""Wiring of the notifications service: its store, the keys it may read, its consumers and its sender."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from schemas.topics import BOOKING_EVENTS, SMS_OUTBOUND, SMS_RECEIPTS
from services.common import kafka
from services.common.pg_store import PgEventStore
from services.common.reference import load_county
from services.common.runtime import Runtime
from services.common.wiring import Consumer, cancel_on_exit, service_app
from services.notifications.adapters.calendar_links import calendar_links
from services.notifications.adapters.keys import PgReadOnlyKeys, open_keys
from services.notifications.app import receipts
from services.notifications.app.booking_events import WANTS, BookingEvents
from services.notifications.app.ports import Notifications
from services.notifications.app.sending import Sender
from services.notifications.domain.decider import Rules
from services.notifications.settings import notify_settings

SERVICE = "notifications"
MIGRATIONS = Path(__file__).with_name("migrations")


def _own_connection(conn: asyncpg.Connection, _: object) -> asyncpg.Connection:
    return conn


async def wire(runtime: Runtime, cleanups: AsyncExitStack) -> Notifications:
    """The keys it may read, the rules it decides by, and the sender of due texts."""
    cfg, own = runtime.settings, notify_settings()
    keys = await open_keys(cfg)
    cleanups.push_async_callback(keys.close)
    county = load_county()
    rules = Rules(
        quiet=own.quiet,
        stations={s.id: s.name for s in county.stations},
        calendar_link=calendar_links(own.public_url, cfg.token_secret),
    )
    n = Notifications(
        store=PgEventStore(runtime.db, runtime.source, _own_connection),
        keys=PgReadOnlyKeys(keys),
        rules=rules,
        reminders=own.reminders,
        number_secret=cfg.token_secret,
        source=runtime.source,
    )
    assert runtime.producer is not None
    sender = Sender(
        runtime.db, n, kafka.sender(runtime.producer, cfg.topic_prefix), SMS_OUTBOUND, own.poll_seconds
    )
    task = asyncio.create_task(sender.run(), name="notifications-sender")
    cleanups.push_async_callback(cancel_on_exit, task)
    return n


CONSUMERS: tuple[Consumer[Notifications], ...] = (
    Consumer("notifications-booking", BOOKING_EVENTS, lambda n: BookingEvents(n).apply, wants=WANTS),
    Consumer(
        "notifications-receipts", SMS_RECEIPTS, lambda n: receipts.Receipts(n).apply, wants=receipts.WANTS
    ),
)


def create_app() -> FastAPI:
    """The notifications service's ASGI app."""
    return service_app(SERVICE, MIGRATIONS, wire=wire, consumers=CONSUMERS)
