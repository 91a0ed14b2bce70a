"""The texts model on PostgreSQL: notifications' events folded into its tables, read, and served.

``fold_notifications`` is a part of the notifications consumer's transaction
(``adapters.models``), so the texts, replies and call backs are stored with the consumer's
positions, after the consumer has checked each record against the contract. Only this model
writes its tables. ``GET /appointments/{appointment_id}/texts`` serves them (notifications
serves its own ``/messages`` from its own tables; this is the read side's copy, which a replay
rebuilds from the topic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from schemas.base import DomainEvent
from services.common.http import Authorized, plausible_id, unknown
from services.common.logging import get_logger
from services.common.runtime import Runtime
from services.projections.adapters.batch import Batch, insert_rows
from services.projections.adapters.kpis import BACKFILL_CHUNK, _readable
from services.projections.domain.texts import (
    READ,
    TEXT_EVENTS,
    CallBack,
    Reply,
    Text,
    apply,
    call_back_of,
    merge_reply,
    reply_of,
)

log = get_logger(__name__)
router = APIRouter()
_TEXT_COLUMNS = [f.name for f in fields(Text)]
_TEXT_ROW = [*_TEXT_COLUMNS, "last_event_id"]


def text_of(row: asyncpg.Record) -> Text:
    """A texts row as the fold's text."""
    return Text(**{name: row[name] for name in _TEXT_COLUMNS})


async def fold_notifications(conn: asyncpg.Connection, batch: Batch) -> None:
    """Fold a fetch of notifications' events into the texts, the replies and the call backs."""
    events = [(env.event_id, env.domain_event()) for env, _ in batch if env.event_type in READ]
    if not events:
        return
    sms = [(i, e) for i, e in events if e.event_type in TEXT_EVENTS]
    if sms:
        await _texts(conn, sms)
    replies: dict[str, Reply] = {}
    call_backs: dict[str, CallBack] = {}
    for _, event in events:
        if (reply := reply_of(event)) is not None:
            replies[reply.message_id] = merge_reply(replies.get(reply.message_id), reply)
        if (call_back := call_back_of(event)) is not None:
            call_backs[call_back.appointment_id] = call_back.first(call_backs.get(call_back.appointment_id))
    if replies:
        await _replies(conn, list(replies.values()))
    if call_backs:
        # The first request stands, whichever partition brought which first.
        await conn.executemany(
            "insert into call_backs (appointment_id, reason, requested_at, message_id)"
            " values ($1, $2, $3, $4)"
            " on conflict (appointment_id) do update set reason = excluded.reason,"
            " requested_at = excluded.requested_at, message_id = excluded.message_id"
            " where (excluded.requested_at, excluded.message_id)"
            " < (call_backs.requested_at, call_backs.message_id)",
            [(c.appointment_id, c.reason, c.requested_at, c.message_id) for c in call_backs.values()],
        )


async def _texts(conn: asyncpg.Connection, events: Sequence[tuple[UUID, DomainEvent]]) -> None:
    ids = sorted({str(getattr(e, "message_id", "")) for _, e in events})
    rows = await conn.fetch(
        "select * from texts where message_id = any($1::text[]) order by message_id for update", ids
    )
    texts: dict[str, Text] = {r["message_id"]: text_of(r) for r in rows}
    changed: dict[str, tuple[Text, UUID]] = {}
    for event_id, event in events:
        message_id = str(getattr(event, "message_id", ""))
        before = texts.get(message_id)
        after = apply(before, event)
        if after is not None and after != before:
            texts[message_id] = after
            changed[message_id] = (after, event_id)
    rows_out = [
        {**{c: getattr(text, c) for c in _TEXT_COLUMNS}, "last_event_id": event_id}
        for text, event_id in changed.values()
    ]
    updates = ", ".join(f"{c} = excluded.{c}" for c in _TEXT_ROW if c != "message_id")
    await insert_rows(conn, "texts", rows_out, f"on conflict (message_id) do update set {updates}")


async def _replies(conn: asyncpg.Connection, replies: Sequence[Reply]) -> None:
    """Upsert replies: a reading sets the intent and time (keeping a score), a score only the score."""
    readings = [r for r in replies if r.score is None]
    scores = [r for r in replies if r.score is not None]
    if readings:
        await conn.executemany(
            "insert into text_replies (message_id, appointment_id, intent, received_at)"
            " values ($1, $2, $3, $4)"
            " on conflict (message_id) do update set appointment_id = excluded.appointment_id,"
            " intent = excluded.intent, received_at = excluded.received_at",
            [(r.message_id, r.appointment_id, r.intent, r.received_at) for r in readings],
        )
    if scores:
        # A row made by a score alone reads as a satisfaction reply at the time it was recorded;
        # a row with its reading keeps it. Both orders end in the same row.
        await conn.executemany(
            "insert into text_replies (message_id, appointment_id, intent, received_at, score)"
            " values ($1, $2, $3, $4, $5) on conflict (message_id) do update set score = excluded.score",
            [(r.message_id, r.appointment_id, r.intent, r.received_at, r.score) for r in scores],
        )


async def call_backs(
    conn: asyncpg.Connection, appointment_ids: Sequence[str], at: datetime | None
) -> set[str]:
    """Which of these appointments are flagged for a call back (by ``at``, when given)."""
    if not appointment_ids:
        return set()
    rows = await conn.fetch(
        "select appointment_id from call_backs where appointment_id = any($1::text[])"
        " and ($2::timestamptz is null or requested_at <= $2)",
        list(appointment_ids),
        at,
    )
    return {r["appointment_id"] for r in rows}


async def fold_recorded_history(conn: asyncpg.Connection) -> int:
    """Fold the recorded notifications' events into the texts tables, from empty, if a migration asks.

    For a database whose history was recorded before the texts model existed; run before any
    consumer applies, as the KPIs' fold is, so the model stands where the consumer's positions do.
    """
    async with conn.transaction():
        if not await conn.fetchval("delete from texts_backfill returning true"):
            return 0
        await conn.execute("delete from texts; delete from text_replies; delete from call_backs")
        types = sorted(READ)
        cursor = await conn.cursor(
            'select event_id, topic, partition, "offset", event_type, schema_version, source, subject,'
            " actor, correlation_id, causation_id, occurred_at, data::text as data from event_history"
            ' where event_type = any($1::text[]) order by partition, "offset"',
            types,
        )
        count = 0
        while rows := await cursor.fetch(BACKFILL_CHUNK):
            await fold_notifications(conn, _readable(rows))
            count += len(rows)
    log.info("texts folded from the recorded history", events=count)
    return count


class TextState(BaseModel):
    """One text about the appointment and what became of it (no number, no words)."""

    message_id: str
    template: str
    recipient: str = Field(description="public (the caller) or officer")
    status: str = Field(
        description="queued (due at send_at, or to be sent again after Notify's own failure), "
        "delivered, failed or withdrawn. Notifications publishes no event when a text goes to Notify: "
        "a text stays queued until a receipt."
    )
    send_at: datetime
    queued_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    failure: str | None = Field(
        description="Notify's status of the last failure: permanent-failure, temporary-failure, "
        "technical-failure, or rejected (Notify refused the request)."
    )
    permanent: bool
    technical_failures: int = Field(description="How many times Notify failed it for its own reasons.")
    withdrawn_at: datetime | None


class ReplyState(BaseModel):
    """A text the caller sent about the appointment: when, and what it was read as (no words)."""

    message_id: str
    intent: str
    received_at: datetime
    score: int | None = Field(description="The satisfaction score the reply gave, 1 to 5.")


class AppointmentMessages(BaseModel):
    """An appointment's texts with their delivery state, the caller's replies, and whether to call back."""

    appointment_id: str
    call_back: bool = Field(description="A person must call the caller (CallBackRequested).")
    call_back_reason: str | None
    call_back_requested_at: datetime | None
    texts: list[TextState]
    replies: list[ReplyState]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get(
    "/appointments/{appointment_id}/texts",
    response_model=AppointmentMessages,
    responses={
        404: {"description": "No appointment with this id: neither the diary nor any text names it."},
        503: {"description": "The database is not answering."},
    },
    tags=["texts"],
)
async def appointment_texts(request: Request, appointment_id: str, _: Authorized) -> AppointmentMessages:
    """An appointment's texts and their delivery state, the caller's replies (what each was read as,
    never the words) and whether a person must call the caller back, from notifications.events."""
    if not plausible_id(appointment_id):
        raise unknown("appointment_id", "there is no appointment with this id")
    async with _runtime(request).db.acquire() as conn:
        texts = await conn.fetch(
            "select * from texts where appointment_id = $1 order by queued_at, message_id", appointment_id
        )
        replies = await conn.fetch(
            "select * from text_replies where appointment_id = $1 order by received_at, message_id",
            appointment_id,
        )
        flag = await conn.fetchrow("select * from call_backs where appointment_id = $1", appointment_id)
        known = bool(texts or replies or flag) or bool(
            await conn.fetchval("select true from diary where appointment_id = $1", appointment_id)
        )
    if not known:
        raise unknown("appointment_id", "there is no appointment with this id")
    return AppointmentMessages(
        appointment_id=appointment_id,
        call_back=flag is not None,
        call_back_reason=flag["reason"] if flag else None,
        call_back_requested_at=flag["requested_at"] if flag else None,
        texts=[TextState(**{k: r[k] for k in TextState.model_fields}) for r in texts],
        replies=[ReplyState(**{k: r[k] for k in ReplyState.model_fields}) for r in replies],
    )
