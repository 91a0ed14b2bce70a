"""What the notifications handlers need from outside, and the rules they decide by."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.common.pg_store import PgEventStore
from services.notifications.adapters.booking_client import Booking
from services.notifications.adapters.keys import Keys
from services.notifications.domain.decider import Rules
from services.notifications.domain.reminders import ReminderPolicy
from services.notifications.gateway.notify import SmsGateway


@dataclass(frozen=True)
class Notifications:
    """The service's parts: its event store, the keys it may read, its rules, the key of number hashes."""

    store: PgEventStore[asyncpg.Connection]
    keys: Keys
    rules: Rules
    reminders: ReminderPolicy
    # Keys the hash of phone numbers (replies are matched by it): never the number in a table.
    number_secret: str
    source: str
    # GOV.UK Notify (or its simulator) when a key is configured; None: texts wait on sms-outbound.
    gateway: SmsGateway | None = None
    # Booking, which a reply CANCEL cancels through.
    booking: Booking | None = None
