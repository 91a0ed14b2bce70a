"""Texts from the public (``notifications.sms-inbound``): matched by the number's keyed hash, then acted on.

YES confirms; CANCEL cancels through booking (as the public); MOVE flags the appointment for
a call back; a score from 1 to 5 after an attended appointment is ``SatisfactionRecorded``;
STOP stops texts to the number; anything else is kept (``ReplyReceived``, its words sealed
under the caller's key) for a person to read: every reply is listed with its appointment's
texts, the words opened only then. A number with several appointments ahead is
asked which. A number with no appointment gets no answer, and nothing of it is kept.
Idempotent on the gateway's id of the text: the reply's own stream holds it once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from schemas.base import DomainEvent
from schemas.envelope import Envelope
from schemas.gateway import SmsReplied
from schemas.notifications import CallBackRequested, ReplyReceived, SatisfactionRecorded
from services.common.consumer import Position
from services.common.logging import get_logger
from services.common.unit_of_work import Fold, Metadata, Unit, any_event, load_one, run_unit
from services.notifications.adapters import tables
from services.notifications.adapters.booking_client import Booking
from services.notifications.app.booking_events import metadata
from services.notifications.app.ports import Notifications
from services.notifications.app.texts import queue_texts
from services.notifications.domain import replies
from services.notifications.domain import templates as t
from services.notifications.domain.appointment import Appointment
from services.notifications.domain.decider import Text

log = get_logger(__name__)
WANTS = frozenset({SmsReplied.event_type})
REPLY_NAMESPACE = uuid.UUID("9f7c2e14-3b6a-4d8e-a1f0-5c2b7d9e4a63")
# A reply's stream only says whether it was handled: how many events it holds.
HANDLED: Fold[int, DomainEvent] = Fold(lambda _: 0, lambda n, _: n + 1, any_event)


class Replies:
    """The consumer of sms-inbound."""

    def __init__(self, n: Notifications, booking: Booking) -> None:
        self._n = n
        self._booking = booking

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """Read one text from the public and act on it, in the consumer's transaction."""
        replied = SmsReplied.model_validate(env.data)
        now = datetime.now(UTC)
        reading = replies.read(replied.message)
        upcoming = await tables.upcoming_for_number(conn, replied.source_hash, now)
        if reading.intent == "confirm":
            # YES also takes a slot offered from the waitlist.
            offered = await tables.offered_for_number(conn, replied.source_hash, now)
            upcoming = sorted([*upcoming, *offered], key=lambda a: a.starts_at or now)
        attended = None
        if reading.intent == "satisfaction":
            attended = await tables.latest_attended_for_number(conn, replied.source_hash)
        known = upcoming or ([attended] if attended else [])
        if not known and not await tables.number_known(conn, replied.source_hash):
            log.info("a text from a number with no appointment; not answered", reply_id=replied.id)
            return
        reply_id = str(uuid.uuid5(REPLY_NAMESPACE, replied.id))
        meta = metadata(env, now)
        about = attended if reading.intent == "satisfaction" else replies.match(reading, upcoming).appointment
        ask = reading.intent in ("confirm", "cancel", "move") and replies.match(reading, upcoming).ask
        intent = "which" if ask else reading.intent
        if about is None and not ask and reading.intent != "stop":
            intent = "unknown"
        anyone = about or (
            upcoming[0] if upcoming else await tables.any_for_number(conn, replied.source_hash)
        )
        if anyone is None:
            return
        body = await self._n.keys.seal(anyone.subject_id, replied.message)
        if body is None:
            log.info("a text from an erased caller; not kept", reply_id=replied.id)
            return
        event = ReplyReceived(
            message_id=reply_id,
            appointment_id=about.appointment_id if about else None,
            from_hash=replied.source_hash,
            body=body,
            intent=intent,
            received_at=replied.date_received,
        )
        if not await self._record(conn, reply_id, [event], meta):
            return  # handled before (the gateway's id again)
        # Beside the appointment it is about (or the number's next one), for a person to read.
        kept_with = about or anyone
        await tables.add_reply(conn, reply_id, kept_with.appointment_id, intent, replied.date_received, body)
        await self._act(conn, intent, reading, about, upcoming, replied, reply_id, meta)
        log.info("reply read", reply_id=reply_id, intent=intent, appointment_id=event.appointment_id)

    async def _record(
        self, conn: asyncpg.Connection, reply_id: str, events: list[DomainEvent], meta: Metadata
    ) -> bool:
        async def work(unit: Unit[asyncpg.Connection]) -> bool:
            loaded = await load_one(unit, HANDLED, f"reply:{reply_id}")
            if loaded.state and events and isinstance(events[0], ReplyReceived):
                return False
            unit.append(loaded, events, meta)
            return True

        return await run_unit(self._n.store, work, within=conn)

    async def _act(
        self,
        conn: asyncpg.Connection,
        intent: str,
        reading: replies.Reading,
        about: Appointment | None,
        upcoming: list[Appointment],
        replied: SmsReplied,
        reply_id: str,
        meta: Metadata,
    ) -> None:
        now, rules = meta.now, self._n.rules
        texts: list[Text] = []
        if intent == "which":
            texts = [replies.which_text(upcoming, now, rules)]
        elif intent == "stop":
            await tables.stop_number(conn, replied.source_hash, now)
            anyone = about or (upcoming[0] if upcoming else None)
            texts = [replies.answer(t.STOPPED, anyone, now, rules)] if anyone else []
        elif about is not None and intent == "confirm" and about.status == "offered":
            # Booking books it; its SlotBooked comes back here and gives the booked text.
            taken = await self._booking.accept_offer_by_text(about.appointment_id, meta.correlation_id)
            log.info("offer answered by text", appointment_id=about.appointment_id, taken=taken)
            texts = [] if taken else [replies.answer(t.OFFER_GONE, about, now, rules)]
        elif about is not None and intent == "confirm":
            texts = [replies.answer(t.CONFIRMED, about, now, rules)]
        elif about is not None and intent == "cancel":
            # Booking cancels it; its AppointmentCancelled comes back here and gives the caller's text.
            done = await self._booking.cancel_by_text(about.appointment_id, meta.correlation_id)
            log.info("cancelled by text", appointment_id=about.appointment_id, cancelled=done)
        elif about is not None and intent == "move":
            flag = CallBackRequested(
                message_id=reply_id,
                appointment_id=about.appointment_id,
                reason="asked-to-move",
                requested_at=now,
            )
            await self._record(conn, reply_id, [flag], meta)
            await tables.flag_call_back(conn, about.appointment_id)
            texts = [replies.answer(t.CALL_BACK_PROMISED, about, now, rules)]
        elif about is not None and intent == "satisfaction" and reading.score is not None:
            score = SatisfactionRecorded(
                message_id=reply_id, appointment_id=about.appointment_id, score=reading.score, recorded_at=now
            )
            await self._record(conn, reply_id, [score], meta)
        target = about or (upcoming[0] if upcoming else None)
        if texts and target is not None and target.phone is not None:
            await queue_texts(self._n.store, conn, texts, target.phone, f"reply:{replied.id}", meta)
