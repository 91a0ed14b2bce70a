"""The gateway's consumer of ``notifications.sms-outbound``: each text to Notify, once per attempt.

Idempotent on the record's event id (one per attempt of a text): a redelivered record is
skipped by the consumer before it gets here. Notify refusing a text (a 400) is final and
recorded as ``SmsFailed`` with Notify's reason, and a text to the public flags its
appointment for a call back, as a permanent failure does; Notify unreachable after the
retries leaves the record unacknowledged, so it comes again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from schemas.envelope import Envelope
from schemas.gateway import SmsToSend
from schemas.notifications import CallBackRequested
from services.common.consumer import Position, Transient
from services.common.logging import get_logger
from services.common.unit_of_work import Unit, load_one, run_unit
from services.notifications.adapters import tables
from services.notifications.app.booking_events import metadata
from services.notifications.app.ports import Notifications
from services.notifications.app.texts import MESSAGES
from services.notifications.domain import message
from services.notifications.gateway.notify import NotifyRefused, NotifyUnavailable, Sms, SmsGateway

log = get_logger(__name__)
WANTS = frozenset({SmsToSend.event_type})


class OutboundTexts:
    """Sends each text of sms-outbound through the gateway."""

    def __init__(self, n: Notifications, gateway: SmsGateway) -> None:
        self._n = n
        self._gateway = gateway

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """Send one text; record Notify's refusal."""
        text = SmsToSend.model_validate(env.data)
        sms = Sms(text.phone_number, text.template_id, dict(text.personalisation), text.reference)
        try:
            gateway_id = await self._gateway.send(sms)
        except NotifyUnavailable as exc:
            raise Transient(str(exc)) from None
        except NotifyRefused as refused:
            await self._refused(conn, env, text.message_id, refused.reason)
            return
        # The day's count outlives the process: the allowance is Notify's, not this process's.
        await tables.count_sent(conn, datetime.now(UTC).date())
        log.info("text handed to Notify", message_id=text.message_id, notify_id=gateway_id)

    async def _refused(self, conn: asyncpg.Connection, env: Envelope, message_id: str, reason: str) -> None:
        now = datetime.now(UTC)

        async def work(unit: Unit[asyncpg.Connection]) -> list[message.MessageEvent]:
            loaded = await load_one(unit, MESSAGES, message.stream_of(message_id))
            events = message.rejected(loaded.state, reason, now)
            unit.append(loaded, events, metadata(env, now))
            return events

        for event in await run_unit(self._n.store, work, within=conn):
            if isinstance(event, CallBackRequested):
                await tables.flag_call_back(conn, event.appointment_id)
        await tables.set_status(conn, message_id, "rejected")
        log.warning("Notify refused a text", message_id=message_id, reason=reason)
