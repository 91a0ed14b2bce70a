"""Wiring of the notifications service: its store, the keys it may read, its consumers and its sender."""

from __future__ import annotations

import asyncio
import functools
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from fastapi import FastAPI

from schemas.topics import BOOKING_EVENTS, ROSTER_EVENTS, SMS_INBOUND, SMS_OUTBOUND, SMS_RECEIPTS
from services.common import kafka
from services.common.pg_store import PgEventStore
from services.common.reference import load_county
from services.common.runtime import Runtime
from services.common.wiring import Consumer, cancel_on_exit, service_app
from services.notifications.adapters import http, tables
from services.notifications.adapters.booking_client import HttpBooking, local_token
from services.notifications.adapters.calendar_links import calendar_links
from services.notifications.adapters.catch_up import wait_until_caught_up
from services.notifications.adapters.keys import PgReadOnlyKeys, open_keys
from services.notifications.app import receipts, replies, roster_events
from services.notifications.app.batches import in_order
from services.notifications.app.booking_events import WANTS, BookingEvents
from services.notifications.app.ports import Notifications
from services.notifications.app.sending import Sender
from services.notifications.domain.decider import Rules
from services.notifications.gateway.notify import NotifyGateway
from services.notifications.gateway.outbound import WANTS as TEXTS_TO_SEND
from services.notifications.gateway.outbound import OutboundTexts
from services.notifications.settings import NotifySettings, notify_settings

SERVICE = "notifications"
BOOKING_CONSUMER = "notifications-booking"
MIGRATIONS = Path(__file__).with_name("migrations")


def _own_connection(conn: asyncpg.Connection, _: object) -> asyncpg.Connection:
    return conn


def gateway(own: NotifySettings) -> NotifyGateway | None:
    """GOV.UK Notify (locally its simulator) when a key is configured."""
    if own.api_key is None:
        return None
    return NotifyGateway(
        own.api_key.get_secret_value(),
        own.base_url,
        sms_sender_id=own.sms_sender_id,
        rate_per_minute=own.rate_per_minute,
        daily_allowance=own.daily_allowance,
        timeout_seconds=own.timeout_seconds,
        attempts=own.attempts,
    )


def booking(own: NotifySettings, production: bool) -> HttpBooking:
    """Booking's API, called with the configured token (locally, one signed on the spot)."""
    token = own.booking_token
    if token is not None:
        fixed = token.get_secret_value()
        return HttpBooking(own.booking_url, lambda: fixed)
    if production:
        raise RuntimeError(
            "APPOINTMENTS_NOTIFY_BOOKING_TOKEN is not set: replies cannot cancel through booking"
        )
    return HttpBooking(own.booking_url, local_token)


def _replies(n: Notifications) -> replies.Replies:
    assert n.booking is not None
    return replies.Replies(n, n.booking)


def _outbound(n: Notifications) -> OutboundTexts:
    assert n.gateway is not None
    return OutboundTexts(n, n.gateway)


async def wire(runtime: Runtime, cleanups: AsyncExitStack) -> Notifications:
    """The keys it may read, the rules it decides by, and the sender of due texts."""
    cfg, own = runtime.settings, notify_settings()
    keys = await open_keys(cfg)
    cleanups.push_async_callback(keys.close)
    county = load_county()
    rules = Rules(
        quiet=own.quiet,
        stations={s.id: s.name for s in county.stations},
        districts={d.id: d.name for d in county.districts},
        calendar_link=calendar_links(own.public_url, cfg.token_secret),
    )
    n = Notifications(
        store=PgEventStore(runtime.db, runtime.source, _own_connection),
        keys=PgReadOnlyKeys(keys),
        rules=rules,
        reminders=own.reminders,
        number_secret=cfg.token_secret,
        source=runtime.source,
        gateway=gateway(own),
        booking=booking(own, cfg.is_production),
    )
    if isinstance(n.gateway, NotifyGateway):
        # Texts already sent today count against Notify's daily allowance after a restart too.
        today = datetime.now(UTC).date()
        async with runtime.db.acquire() as conn:
            n.gateway.resume(today, await tables.sent_on(conn, today))
    assert runtime.producer is not None
    caught_up = functools.partial(
        wait_until_caught_up,
        runtime.db,
        BOOKING_CONSUMER,
        cfg.kafka_bootstrap,
        cfg.topic(BOOKING_EVENTS),
        WANTS,
    )
    send = kafka.sender(runtime.producer, cfg.topic_prefix)
    sender = Sender(runtime.db, n, send, SMS_OUTBOUND, own.poll_seconds, caught_up)
    task = asyncio.create_task(sender.run(), name="notifications-sender")
    cleanups.push_async_callback(cancel_on_exit, task)
    return n


CONSUMERS: tuple[Consumer[Notifications], ...] = (
    Consumer(
        BOOKING_CONSUMER,
        BOOKING_EVENTS,
        lambda n: BookingEvents(n).apply,
        apply_batch=lambda n: in_order(BookingEvents(n).apply),
        wants=WANTS,
    ),
    Consumer(
        "notifications-roster",
        ROSTER_EVENTS,
        lambda n: roster_events.RosterEvents(n).apply,
        wants=roster_events.WANTS,
    ),
    Consumer(
        "notifications-receipts", SMS_RECEIPTS, lambda n: receipts.Receipts(n).apply, wants=receipts.WANTS
    ),
    Consumer("notifications-replies", SMS_INBOUND, lambda n: _replies(n).apply, wants=replies.WANTS),
)


# The gateway's side: texts to Notify, run when a Notify key is configured.
GATEWAY: Consumer[Notifications] = Consumer(
    "notifications-gateway", SMS_OUTBOUND, lambda n: _outbound(n).apply, wants=TEXTS_TO_SEND
)


def create_app() -> FastAPI:
    """The notifications service's ASGI app."""
    consumers = (*CONSUMERS, GATEWAY) if notify_settings().api_key is not None else CONSUMERS
    return service_app(SERVICE, MIGRATIONS, wire=wire, routers=[http.router], consumers=consumers)
