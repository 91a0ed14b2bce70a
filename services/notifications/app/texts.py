"""Queueing a decided text: ``SmsQueued`` on its own stream, and the text in the queue, in one transaction.

The message id is derived from what caused the text (an event id, a reminder, a reply)
and the template, so a cause handled twice queues one text, never two.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from schemas.gateway import reference_of
from schemas.notifications import SmsQueued
from schemas.personal import Sealed
from services.common.pg_store import PgEventStore
from services.common.unit_of_work import Fold, Metadata, Unit, load_one, run_unit
from services.notifications.adapters import tables
from services.notifications.domain import message
from services.notifications.domain.decider import Text
from services.notifications.domain.officers import OfficerText

MESSAGE_NAMESPACE = uuid.UUID("b3c1f9a4-5e7d-4c2b-8f3a-9d6e1a2b4c5d")
MESSAGES: Fold[message.Message, message.MessageEvent] = Fold(
    message.initial, message.evolve, message.narrow, tag="message"
)
Store = PgEventStore[asyncpg.Connection]


def message_id_for(cause: str, template: str) -> uuid.UUID:
    """The id of the text ``cause`` gives with ``template``: the same cause, the same text."""
    return uuid.uuid5(MESSAGE_NAMESPACE, f"{cause}:{template}")


async def _queue_once(store: Store, conn: asyncpg.Connection, event: SmsQueued, meta: Metadata) -> bool:
    """Append ``SmsQueued`` to the text's own stream, unless it is there already."""

    async def work(unit: Unit[asyncpg.Connection]) -> bool:
        loaded = await load_one(unit, MESSAGES, message.stream_of(event.message_id))
        if loaded.state.status != "unknown":
            return False  # queued before: the cause came again
        unit.append(loaded, [event], meta)
        return True

    return await run_unit(store, work, within=conn)


def _queued(message_id: uuid.UUID, text: Text | OfficerText, meta: Metadata) -> SmsQueued:
    return SmsQueued(
        message_id=str(message_id),
        appointment_id=text.appointment_id,
        template=text.template.name,
        template_id=text.template.id,
        reference=reference_of(text.appointment_id, str(message_id)),
        recipient="officer" if isinstance(text, OfficerText) else "public",
        send_at=text.send_at,
        queued_at=meta.now,
    )


async def queue_texts(
    store: Store,
    conn: asyncpg.Connection,
    texts: Sequence[Text],
    phone: Sealed,
    cause: str,
    meta: Metadata,
) -> list[uuid.UUID]:
    """Queue each text to the public once (``SmsQueued`` and the queue row, in the caller's transaction)."""
    queued: list[uuid.UUID] = []
    for text in texts:
        message_id = message_id_for(cause, text.template.name)
        event = _queued(message_id, text, meta)
        if await _queue_once(store, conn, event, meta):
            await tables.add_text(
                conn,
                tables.DueText(
                    message_id, text.appointment_id, phone, text.template.name, text.template.id,
                    dict(text.personalisation), event.reference, text.send_at, meta.correlation_id,
                    meta.now, 0,
                ),
            )  # fmt: skip
            queued.append(message_id)
    return queued


async def queue_officer_texts(
    store: Store, conn: asyncpg.Connection, texts: Sequence[OfficerText], cause: str, meta: Metadata
) -> list[uuid.UUID]:
    """Queue each text to an officer who has a work mobile on file, once."""
    mobiles = await tables.officer_mobiles(conn, sorted({t.officer_id for t in texts}))
    queued: list[uuid.UUID] = []
    for text in texts:
        if text.officer_id not in mobiles:
            continue  # no number to text: the diary still shows the change
        message_id = message_id_for(f"{cause}:{text.officer_id}", text.template.name)
        event = _queued(message_id, text, meta)
        if await _queue_once(store, conn, event, meta):
            await tables.add_text(
                conn,
                tables.DueText(
                    message_id, text.appointment_id, None, text.template.name, text.template.id,
                    dict(text.personalisation), event.reference, text.send_at, meta.correlation_id,
                    meta.now, 0, officer_id=text.officer_id,
                ),
            )  # fmt: skip
            queued.append(message_id)
    return queued
