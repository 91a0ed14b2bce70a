"""Booking's events as notifications hears them: keep the appointment, decide texts, plan reminders.

One consumer transaction per Kafka fetch (with its offsets and event ids, ``batches``): each
event's appointment row, the texts it gives (``SmsQueued`` and the queue) and its reminders
commit together, so an event delivered twice changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import asyncpg

from schemas.base import parse_event
from schemas.envelope import Envelope
from services.common.consumer import Position
from services.common.logging import get_logger
from services.common.unit_of_work import Metadata, Unit, load_one, run_unit
from services.notifications.adapters import tables
from services.notifications.adapters.keys import number_hash
from services.notifications.app.ports import Notifications
from services.notifications.app.texts import MESSAGES, queue_officer_texts, queue_texts
from services.notifications.domain import message
from services.notifications.domain.appointment import BOOKING_FACTS, Appointment, BookingFact, evolve
from services.notifications.domain.decider import decide
from services.notifications.domain.officers import officer_texts
from services.notifications.domain.reminders import schedule

log = get_logger(__name__)
WANTS = BOOKING_FACTS
Withdrawal = Literal["appointment-moved", "appointment-cancelled"]


def metadata(env: Envelope, now: datetime) -> Metadata:
    """The metadata of what an event causes here: its correlation, and the event as cause."""
    return Metadata(
        correlation_id=env.correlation_id, actor="notifications", now=now, causation_id=str(env.event_id)
    )


async def withdraw_pending(
    n: Notifications,
    conn: asyncpg.Connection,
    appointment_id: str,
    why: Withdrawal,
    meta: Metadata,
) -> None:
    """Texts about the appointment still waiting (for the morning, say) no longer hold: none of them goes."""
    for message_id in await tables.take_pending(conn, appointment_id, meta.now):

        async def work(unit: Unit[asyncpg.Connection], message_id: str = message_id) -> None:
            loaded = await load_one(unit, MESSAGES, message.stream_of(message_id))
            unit.append(loaded, message.withdraw(loaded.state, why, meta.now), meta)

        await run_unit(n.store, work, within=conn)


class BookingEvents:
    """The consumer of booking.events."""

    def __init__(self, n: Notifications) -> None:
        self._n = n

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """Apply one of booking's events, in the consumer's transaction."""
        event = parse_event(env.event_type, env.schema_version, env.data)
        assert isinstance(event, BookingFact)  # the consumer only lets BOOKING_FACTS in
        before = await tables.appointment(conn, event.appointment_id, lock=True)
        after = evolve(before, event)
        if after is None:
            return
        now = datetime.now(UTC)
        hashed = await self._number_hash(before, after)
        await tables.save_appointment(conn, after, hashed)
        if before is not None and (before.moves != after.moves or after.status == "cancelled"):
            why: Withdrawal = "appointment-cancelled" if after.status == "cancelled" else "appointment-moved"
            await withdraw_pending(self._n, conn, after.appointment_id, why, metadata(env, now))
        texts = decide(before, event, self._n.rules)
        for_officers = officer_texts(before, event, self._n.rules)
        if for_officers:
            await queue_officer_texts(
                self._n.store, conn, for_officers, str(env.event_id), metadata(env, now)
            )
        if texts and after.phone is not None:
            queued = await queue_texts(
                self._n.store, conn, texts, after.phone, str(env.event_id), metadata(env, now)
            )
            log.info(
                "texts queued", appointment_id=after.appointment_id, texts=len(queued), cause=env.event_type
            )
        if before is None or before.moves != after.moves or before.status != after.status:
            await tables.replace_reminders(
                conn, after.appointment_id, schedule(after, now, self._n.reminders, self._n.rules)
            )

    async def _number_hash(self, before: Appointment | None, after: Appointment) -> str | None:
        """The keyed hash of a number first seen (None when known already, absent, or erased)."""
        if after.phone is None or (before is not None and before.phone == after.phone):
            return None
        number = await self._n.keys.open(after.phone)
        return None if number is None else number_hash(number, self._n.number_secret)
