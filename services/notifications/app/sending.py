"""The texts' way out: due reminders become texts, due texts go to the gateway, each once.

One loop (one process holds its lock) wakes when a text is queued (NOTIFY), when the next
text or reminder falls due, or on a slow poll. A reminder due while the service was down
is found on the next pass and sent then, once: taking it out of the table and queueing
its text (whose id is the reminder's own) commit together. A text goes to
``notifications.sms-outbound`` with the number opened from its sealed copy at that
moment; the number is in that record's value and nowhere else (no key, header or log).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from schemas.envelope import Envelope
from schemas.gateway import SmsToSend
from services.common.db import session_connection
from services.common.logging import get_logger
from services.common.unit_of_work import Metadata
from services.notifications.adapters import tables
from services.notifications.adapters.keys import number_hash
from services.notifications.app.ports import Notifications
from services.notifications.app.texts import queue_officer_texts, queue_texts
from services.notifications.domain.message import stream_of
from services.notifications.domain.officers import day_text
from services.notifications.domain.reminders import Reminder, reminder_text, still_due
from services.notifications.domain.templates import STOPPED

log = get_logger(__name__)
SENDER_LOCK = 7_061_970
# (topic, key, value, headers) -> a future resolved once the broker has the record.
Send = Callable[[str, bytes, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[Any]]]
ATTEMPT_NAMESPACE = uuid.UUID("0e6a4c1d-2b7f-4f0e-a3c9-5d8b1e2f7a60")


def outbound_envelope(record: SmsToSend, text: tables.DueText, source: str, now: datetime) -> Envelope:
    """The record for the gateway: its id is the attempt's, so a repeat of one attempt is one send."""
    return Envelope(
        event_id=uuid.uuid5(ATTEMPT_NAMESPACE, f"{text.message_id}:{text.attempt}"),
        event_type=record.event_type,
        schema_version=record.schema_version,
        source=source,
        subject=stream_of(str(text.message_id)),
        time=now,
        correlation_id=text.correlation_id,
        causation_id=str(text.message_id),
        actor="notifications",
        data=record.model_dump(mode="json"),
    )


class Sender:
    """Sends due reminders and texts; one per database at a time."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        n: Notifications,
        send: Send,
        topic: str,
        poll_seconds: float,
        caught_up: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._caught_up = caught_up
        self._pool = pool
        self._n = n
        self._send = send
        self._topic = topic
        self._poll = poll_seconds
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Hold the sender's lock, then send until cancelled."""
        async with session_connection(self._pool) as lock_conn:
            while True:
                if await lock_conn.fetchval("select pg_try_advisory_lock($1)", SENDER_LOCK):
                    break
                await asyncio.sleep(1.0)  # another process sends; wait our turn
            await lock_conn.add_listener(tables.TEXTS_CHANNEL, self._on_notify)
            if self._caught_up is not None:
                # What moved or was cancelled while the service was down is applied before anything goes.
                await self._caught_up()
            while True:
                try:
                    upcoming = await self._next_due()
                    now = datetime.now(UTC)
                    if upcoming is not None and upcoming <= now:
                        await self.pass_once(now)
                        continue  # look again at once: more may have fallen due meanwhile
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Kafka, PostgreSQL or the key store blipped: nothing was marked, so it comes again.
                    log.warning("sending texts failed; trying again", error=type(exc).__name__)
                    await asyncio.sleep(1.0)
                    continue
                await self._sleep(upcoming)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _next_due(self) -> datetime | None:
        # One statement: an idle service asks its database this and nothing else, once a poll.
        async with self._pool.acquire() as conn:
            return await tables.next_due(conn)

    async def _sleep(self, upcoming: datetime | None) -> None:
        """Until woken (a text queued), the next text or reminder falls due, or the slow poll."""
        wait = self._poll
        if upcoming is not None:
            wait = max(0.05, min(wait, (upcoming - datetime.now(UTC)).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)
        self._wake.clear()

    async def pass_once(self, now: datetime) -> tuple[int, int]:
        """Turn due reminders into texts, then send due texts; returns how many of each."""
        reminded = await self.remind(now) + await self.officer_days(now)
        sent = 0
        while True:
            batch = await self.send_due(now)
            sent += batch
            if batch == 0:
                return reminded, sent

    async def _number(self, text: tables.DueText, mobiles: dict[str, str]) -> str | None:
        """Where a text goes: an officer's work mobile, or the caller's number opened from its sealed copy."""
        if text.officer_id is not None:
            return mobiles.get(text.officer_id)
        return None if text.phone is None else await self._n.keys.open(text.phone)

    async def officer_days(self, now: datetime) -> int:
        """Queue the morning text of every officer's duty that is due: where, when, how many booked."""
        async with self._pool.acquire() as conn, conn.transaction():
            queued = 0
            for duty in await tables.take_due_officer_days(conn, now):
                if duty.ends_at <= now:
                    continue
                booked = await tables.booked_for_officer(conn, duty.officer_id, duty.starts_at, duty.ends_at)
                meta = Metadata(correlation_id=f"officer-day:{duty.duty_id}", actor="notifications", now=now)
                text = day_text(duty, booked, now)
                queued += len(
                    await queue_officer_texts(self._n.store, conn, [text], meta.correlation_id, meta)
                )
        return queued

    async def remind(self, now: datetime) -> int:
        """Queue the text of every reminder due by ``now`` whose appointment still stands."""
        async with self._pool.acquire() as conn, conn.transaction():
            reminders = await tables.take_due_reminders(conn, now)
            queued = 0
            for reminder in reminders:
                queued += await self._remind(conn, reminder, now)
        return queued

    async def _remind(self, conn: asyncpg.Connection, reminder: Reminder, now: datetime) -> int:
        appointment = await tables.appointment(conn, reminder.appointment_id)
        if appointment is None or not still_due(reminder, appointment) or appointment.phone is None:
            return 0
        assert appointment.starts_at is not None
        rules = self._n.rules
        at = rules.quiet.place(now, appointment.starts_at) if rules.quiet.is_quiet(now) else now
        if at is None or appointment.starts_at <= now:
            return 0  # missed for good (the appointment has begun, or only quiet hours are left)
        if at > now:  # due while the service was down, and it is quiet now: later, once
            await tables.put_reminder(conn, _at(reminder, at))
            return 0
        text = reminder_text(reminder, appointment, rules)
        cause = f"reminder:{reminder.appointment_id}:{reminder.kind}:{reminder.moves}"
        meta = Metadata(correlation_id=cause, actor="notifications", now=now)
        return len(await queue_texts(self._n.store, conn, [text], appointment.phone, cause, meta))

    async def send_due(self, now: datetime) -> int:
        """Send one batch of due texts to the gateway; returns how many were handled."""
        async with self._pool.acquire() as conn, conn.transaction():
            due = await tables.due_texts(conn, now)
            if not due:
                return 0
            outcomes: list[tuple[uuid.UUID, str]] = []
            acks = []
            mobiles = await tables.officer_mobiles(conn, [t.officer_id for t in due if t.officer_id])
            numbers = {text.message_id: await self._number(text, mobiles) for text in due}
            hashes = {m: number_hash(n, self._n.number_secret) for m, n in numbers.items() if n is not None}
            stopped = await tables.stopped(conn, list(hashes.values()))
            for text in due:
                number = numbers[text.message_id]
                if number is None:
                    outcomes.append((text.message_id, "erased" if text.officer_id is None else "no-number"))
                    continue
                if hashes[text.message_id] in stopped and text.template != STOPPED.name:
                    outcomes.append((text.message_id, "stopped"))
                    continue
                record = SmsToSend(
                    message_id=str(text.message_id),
                    phone_number=number,
                    template_id=text.template_id,
                    template=text.template,
                    personalisation=text.personalisation,
                    reference=text.reference,
                    appointment_id=text.appointment_id,
                    queued_at=text.queued_at,
                )
                envelope = outbound_envelope(record, text, self._n.source, now)
                key = str(text.message_id).encode()
                acks.append(
                    await self._send(self._topic, key, envelope.kafka_value(), envelope.kafka_headers())
                )
                outcomes.append((text.message_id, "sent"))
            await asyncio.gather(*acks)
            await tables.mark_sent(conn, outcomes, now)
        log.info("texts sent to the gateway", texts=sum(o == "sent" for _, o in outcomes), handled=len(due))
        return len(due)


def _at(reminder: Reminder, at: datetime) -> Reminder:
    return Reminder(reminder.appointment_id, reminder.kind, at, reminder.moves)
