"""Notify's delivery receipts (``notifications.sms-receipts``): each moves its text once.

Delivered gives ``SmsDelivered``; a failure ``SmsFailed`` with Notify's status; a technical
failure is queued again; a permanent one flags the appointment for a call back
(``CallBackRequested``). A receipt Notify repeats (the same receipt id) changes nothing, and
a redelivered record is skipped by the consumer on its event id before it gets here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from schemas.envelope import Envelope
from schemas.gateway import SmsReceipt, message_of
from schemas.notifications import CallBackRequested, SmsFailed
from services.common.consumer import PoisonRecord, Position
from services.common.logging import get_logger
from services.common.unit_of_work import Unit, load_one, run_unit
from services.notifications.adapters import tables
from services.notifications.app.booking_events import metadata
from services.notifications.app.ports import Notifications
from services.notifications.app.texts import MESSAGES
from services.notifications.domain import message

log = get_logger(__name__)
WANTS = frozenset({SmsReceipt.event_type})


class Receipts:
    """The consumer of sms-receipts."""

    def __init__(self, n: Notifications) -> None:
        self._n = n

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """Apply one receipt in the consumer's transaction."""
        receipt = SmsReceipt.model_validate(env.data)
        message_id = message_of(receipt.reference)
        if message_id is None:
            raise PoisonRecord("the receipt's reference names no text of this service")
        now = datetime.now(UTC)
        meta = metadata(env, now)
        seen = message.Receipt(receipt.id, receipt.status, receipt.completed_at or receipt.created_at)

        async def work(unit: Unit[asyncpg.Connection]) -> list[message.MessageEvent]:
            loaded = await load_one(unit, MESSAGES, message.stream_of(message_id))
            events = message.decide_receipt(loaded.state, seen)
            after = unit.append(loaded, events, meta)
            for event in events:
                if isinstance(event, SmsFailed) and message.resend(after.state, event):
                    await tables.send_again(
                        conn, uuid.UUID(message_id), self._n.rules.quiet.next_allowed(now)
                    )
                if isinstance(event, CallBackRequested):
                    await tables.flag_call_back(conn, event.appointment_id)
            if events:
                await tables.set_status(conn, message_id, after.state.status)
            return events

        events = await run_unit(self._n.store, work, within=conn)
        log.info(
            "delivery receipt",
            message_id=message_id,
            status=receipt.status,
            events=[e.event_type for e in events] or "repeat",
        )
