"""The notifications service's own tables: appointments as it knows them, texts waiting, reminders.

Every function takes the connection of the caller's transaction (a consumer's, a timer's),
so a change here commits with the events and offsets that go with it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from pydantic import TypeAdapter

from schemas.personal import Sealed
from services.notifications.domain.appointment import Appointment
from services.notifications.domain.officers import Duty
from services.notifications.domain.reminders import Reminder

TEXTS_CHANNEL = "texts_due"
_APPOINTMENT = TypeAdapter(Appointment)


async def appointment(
    conn: asyncpg.Connection, appointment_id: str, *, lock: bool = False
) -> Appointment | None:
    """The appointment as this service knows it (locked for the caller's transaction when asked)."""
    row = await conn.fetchrow(
        f"select state from appointments where appointment_id = $1{' for update' if lock else ''}",
        appointment_id,
    )
    return None if row is None else _APPOINTMENT.validate_json(row["state"])


async def number_hash_of(conn: asyncpg.Connection, appointment_id: str) -> str | None:
    """The keyed hash of the appointment's number, if it has one."""
    found: str | None = await conn.fetchval(
        "select number_hash from appointments where appointment_id = $1", appointment_id
    )
    return found


async def save_appointment(conn: asyncpg.Connection, state: Appointment, number_hash: str | None) -> None:
    """Keep the appointment's state (its number stays sealed; only its keyed hash is kept beside it)."""
    await conn.execute(
        "insert into appointments (appointment_id, state, number_hash, starts_at, status)"
        " values ($1, $2::jsonb, $3, $4, $5)"
        " on conflict (appointment_id) do update set state = excluded.state,"
        " number_hash = coalesce(excluded.number_hash, appointments.number_hash),"
        " starts_at = excluded.starts_at, status = excluded.status, updated_at = now()",
        state.appointment_id,
        _APPOINTMENT.dump_json(state).decode(),
        number_hash,
        state.starts_at,
        state.status,
    )


async def flag_call_back(conn: asyncpg.Connection, appointment_id: str) -> None:
    """Mark the appointment as needing a person to call the caller."""
    await conn.execute("update appointments set call_back = true where appointment_id = $1", appointment_id)


async def upcoming_for_number(conn: asyncpg.Connection, number_hash: str, now: datetime) -> list[Appointment]:
    """The booked appointments of one number still ahead, soonest first."""
    rows = await conn.fetch(
        "select state from appointments where number_hash = $1 and status = 'booked' and starts_at > $2"
        " order by starts_at",
        number_hash,
        now,
    )
    return [_APPOINTMENT.validate_json(r["state"]) for r in rows]


async def latest_attended_for_number(conn: asyncpg.Connection, number_hash: str) -> Appointment | None:
    """The number's most recent attended appointment, if any."""
    row = await conn.fetchrow(
        "select state from appointments where number_hash = $1 and status = 'attended'"
        " order by starts_at desc limit 1",
        number_hash,
    )
    return None if row is None else _APPOINTMENT.validate_json(row["state"])


@dataclass(frozen=True)
class DueText:
    """A text waiting for its time, with what the gateway will need (the number still sealed)."""

    message_id: uuid.UUID
    appointment_id: str | None
    # The caller's number, sealed; None for a text to an officer (``officer_id``).
    phone: Sealed | None
    template: str
    template_id: str
    personalisation: dict[str, str]
    reference: str
    send_at: datetime
    correlation_id: str
    queued_at: datetime
    attempt: int
    officer_id: str | None = None


async def add_text(conn: asyncpg.Connection, text: DueText) -> bool:
    """Put a text in the queue (once: a message id seen before is left as it is); wakes the sender."""
    added = await conn.fetchval(
        "insert into texts_due (message_id, appointment_id, subject_id, phone, template, template_id,"
        " personalisation, reference, send_at, correlation_id, queued_at, officer_id)"
        " values ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb, $8, $9, $10, $11, $12)"
        " on conflict (message_id) do nothing returning true",
        text.message_id,
        text.appointment_id,
        text.phone.subject_id if text.phone else None,
        text.phone.model_dump_json() if text.phone else None,
        text.template,
        text.template_id,
        json.dumps(text.personalisation),
        text.reference,
        text.send_at,
        text.correlation_id,
        text.queued_at,
        text.officer_id,
    )
    await conn.execute(f"select pg_notify('{TEXTS_CHANNEL}', '')")
    return bool(added)


async def take_pending(conn: asyncpg.Connection, appointment_id: str, at: datetime) -> list[str]:
    """Take the appointment's texts that have not gone yet out of the queue; returns their ids."""
    rows = await conn.fetch(
        "update texts_due set sent_at = $2, outcome = 'withdrawn', status = 'withdrawn'"
        " where appointment_id = $1 and sent_at is null returning message_id",
        appointment_id,
        at,
    )
    return [str(r["message_id"]) for r in rows]


async def set_status(conn: asyncpg.Connection, message_id: str, status: str) -> None:
    """What became of a text at the gateway: delivered, failed, rejected."""
    await conn.execute("update texts_due set status = $2 where message_id = $1::uuid", message_id, status)


@dataclass(frozen=True)
class TextState:
    """One text of an appointment, as a call taker sees it (no number, no body)."""

    message_id: str
    template: str
    send_at: datetime
    sent_at: datetime | None
    status: str


async def texts_of(conn: asyncpg.Connection, appointment_id: str) -> tuple[list[TextState], bool | None]:
    """An appointment's texts, oldest first, and whether it is flagged for a call back (None: unknown)."""
    flag = await conn.fetchval("select call_back from appointments where appointment_id = $1", appointment_id)
    rows = await conn.fetch(
        "select message_id, template, send_at, sent_at, status from texts_due where appointment_id = $1"
        " order by queued_at, send_at",
        appointment_id,
    )
    return [
        TextState(str(r["message_id"]), r["template"], r["send_at"], r["sent_at"], r["status"]) for r in rows
    ], flag


@dataclass(frozen=True)
class ReplyState:
    """One reply from the caller: when, what it was read as, and its words still sealed."""

    reply_id: str
    intent: str
    received_at: datetime
    body: Sealed


async def add_reply(
    conn: asyncpg.Connection,
    reply_id: str,
    appointment_id: str,
    intent: str,
    received_at: datetime,
    body: Sealed,
) -> None:
    """Keep a reply beside its appointment (once: Notify's id again changes nothing)."""
    await conn.execute(
        "insert into replies (reply_id, appointment_id, intent, received_at, body)"
        " values ($1, $2, $3, $4, $5::jsonb) on conflict do nothing",
        uuid.UUID(reply_id),
        appointment_id,
        intent,
        received_at,
        body.model_dump_json(),
    )


async def replies_of(conn: asyncpg.Connection, appointment_id: str) -> list[ReplyState]:
    """An appointment's replies, oldest first, their words sealed."""
    rows = await conn.fetch(
        "select reply_id, intent, received_at, body::text as body from replies"
        " where appointment_id = $1 order by received_at, reply_id",
        appointment_id,
    )
    return [
        ReplyState(str(r["reply_id"]), r["intent"], r["received_at"], Sealed.model_validate_json(r["body"]))
        for r in rows
    ]


async def send_again(conn: asyncpg.Connection, message_id: uuid.UUID, at: datetime) -> None:
    """Queue a text again (Notify failed for its own reasons), as a new attempt."""
    await conn.execute(
        "update texts_due set sent_at = null, outcome = null, send_at = $2, attempt = attempt + 1,"
        " status = 'queued'"
        " where message_id = $1",
        message_id,
        at,
    )
    await conn.execute(f"select pg_notify('{TEXTS_CHANNEL}', '')")


def _due(row: asyncpg.Record) -> DueText:
    return DueText(
        row["message_id"],
        row["appointment_id"],
        None if row["phone"] is None else Sealed.model_validate_json(row["phone"]),
        row["template"],
        row["template_id"],
        json.loads(row["personalisation"]),
        row["reference"],
        row["send_at"],
        row["correlation_id"],
        row["queued_at"],
        row["attempt"],
        row["officer_id"],
    )


async def due_texts(conn: asyncpg.Connection, now: datetime, limit: int = 200) -> list[DueText]:
    """Texts whose time has come and that have not gone yet, oldest first (locked, skipping others')."""
    rows = await conn.fetch(
        "select * from texts_due where sent_at is null and send_at <= $1 order by send_at"
        " limit $2 for update skip locked",
        now,
        limit,
    )
    return [_due(r) for r in rows]


async def next_due(conn: asyncpg.Connection) -> datetime | None:
    """When the next waiting text (or reminder) falls due."""
    found: datetime | None = await conn.fetchval(
        "select least((select min(send_at) from texts_due where sent_at is null),"
        " (select min(due_at) from reminders), (select min(due_at) from officer_days where sent_at is null))"
    )
    return found


async def mark_sent(
    conn: asyncpg.Connection, outcomes: Sequence[tuple[uuid.UUID, str]], at: datetime
) -> None:
    """Record what became of each text: sent to the gateway, or not (erased, stopped)."""
    if outcomes:
        await conn.execute(
            "update texts_due t set sent_at = $3, outcome = o.outcome,"
            " status = case when o.outcome = 'sent' then t.status else o.outcome end"
            " from unnest($1::uuid[], $2::text[]) as o(id, outcome) where t.message_id = o.id",
            [m for m, _ in outcomes],
            [o for _, o in outcomes],
            at,
        )


async def replace_reminders(
    conn: asyncpg.Connection, appointment_id: str, reminders: Sequence[Reminder]
) -> None:
    """The appointment's reminders are these now (those of an old time or a cancelled one go)."""
    await conn.execute("delete from reminders where appointment_id = $1", appointment_id)
    if reminders:
        await conn.execute(
            "insert into reminders (appointment_id, kind, moves, due_at)"
            " select * from unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[])",
            [r.appointment_id for r in reminders],
            [r.kind for r in reminders],
            [r.moves for r in reminders],
            [r.due_at for r in reminders],
        )
    await conn.execute(f"select pg_notify('{TEXTS_CHANNEL}', '')")


async def put_reminder(conn: asyncpg.Connection, reminder: Reminder) -> None:
    """Keep one reminder (again), due when it says."""
    await conn.execute(
        "insert into reminders (appointment_id, kind, moves, due_at) values ($1, $2, $3, $4)"
        " on conflict (appointment_id, kind, moves) do update set due_at = excluded.due_at",
        reminder.appointment_id,
        reminder.kind,
        reminder.moves,
        reminder.due_at,
    )


async def take_due_reminders(conn: asyncpg.Connection, now: datetime, limit: int = 200) -> list[Reminder]:
    """Reminders due by now, taken out of the table (the caller's transaction sends them or keeps them)."""
    rows = await conn.fetch(
        "delete from reminders where (appointment_id, kind, moves) in ("
        " select appointment_id, kind, moves from reminders where due_at <= $1 order by due_at"
        " limit $2 for update skip locked) returning *",
        now,
        limit,
    )
    return [Reminder(r["appointment_id"], r["kind"], r["due_at"], r["moves"]) for r in rows]


async def stop_number(conn: asyncpg.Connection, number_hash: str, at: datetime) -> None:
    """No more texts to this number (it replied STOP)."""
    await conn.execute(
        "insert into stopped_numbers (number_hash, stopped_at) values ($1, $2) on conflict do nothing",
        number_hash,
        at,
    )


async def stopped(conn: asyncpg.Connection, number_hashes: Sequence[str]) -> set[str]:
    """Which of these numbers replied STOP."""
    rows = await conn.fetch(
        "select number_hash from stopped_numbers where number_hash = any($1::text[])", list(number_hashes)
    )
    return {r["number_hash"] for r in rows}


async def number_known(conn: asyncpg.Connection, number_hash: str) -> bool:
    """Whether any appointment, past or ahead, has this number."""
    return bool(
        await conn.fetchval("select exists(select 1 from appointments where number_hash = $1)", number_hash)
    )


async def any_for_number(conn: asyncpg.Connection, number_hash: str) -> Appointment | None:
    """The number's most recent appointment, whatever its state."""
    row = await conn.fetchrow(
        "select state from appointments where number_hash = $1 order by starts_at desc nulls last limit 1",
        number_hash,
    )
    return None if row is None else _APPOINTMENT.validate_json(row["state"])


async def offered_for_number(conn: asyncpg.Connection, number_hash: str, now: datetime) -> list[Appointment]:
    """The slots held for this number from the waitlist, still ahead, soonest first."""
    rows = await conn.fetch(
        "select state from appointments where number_hash = $1 and status = 'offered' and starts_at > $2"
        " order by starts_at",
        number_hash,
        now,
    )
    return [_APPOINTMENT.validate_json(r["state"]) for r in rows]


async def set_officer_mobile(conn: asyncpg.Connection, officer_id: str, mobile: str, at: datetime) -> None:
    """The officer's work mobile, which their duty texts go to."""
    await conn.execute(
        "insert into officer_mobiles (officer_id, mobile, set_at) values ($1, $2, $3)"
        " on conflict (officer_id) do update set mobile = excluded.mobile, set_at = excluded.set_at",
        officer_id,
        mobile,
        at,
    )


async def officer_mobiles(conn: asyncpg.Connection, officer_ids: Sequence[str]) -> dict[str, str]:
    """The work mobiles of these officers (those who have one)."""
    rows = await conn.fetch(
        "select officer_id, mobile from officer_mobiles where officer_id = any($1::text[])", list(officer_ids)
    )
    return {r["officer_id"]: r["mobile"] for r in rows}


async def plan_officer_day(conn: asyncpg.Connection, duty: Duty, due_at: datetime) -> None:
    """Keep a duty whose morning text is to go (a duty seen again changes nothing)."""
    await conn.execute(
        "insert into officer_days (duty_id, officer_id, place, starts_at, ends_at, due_at)"
        " values ($1, $2, $3, $4, $5, $6) on conflict (duty_id) do nothing",
        duty.duty_id,
        duty.officer_id,
        duty.place,
        duty.starts_at,
        duty.ends_at,
        due_at,
    )
    await conn.execute(f"select pg_notify('{TEXTS_CHANNEL}', '')")


async def end_officer_day(conn: asyncpg.Connection, duty_id: str, ends_at: datetime) -> None:
    """A duty ended (early): its text says the shorter span, or goes not at all when nothing is left."""
    await conn.execute(
        "delete from officer_days where duty_id = $1 and sent_at is null and starts_at >= $2",
        duty_id,
        ends_at,
    )
    await conn.execute(
        "update officer_days set ends_at = least(ends_at, $2) where duty_id = $1 and sent_at is null",
        duty_id,
        ends_at,
    )


async def take_due_officer_days(conn: asyncpg.Connection, now: datetime) -> list[Duty]:
    """Duties whose morning text is due, marked as sent in the caller's transaction."""
    rows = await conn.fetch(
        "update officer_days set sent_at = $1 where duty_id in (select duty_id from officer_days"
        " where sent_at is null and due_at <= $1 order by due_at limit 200 for update skip locked)"
        " returning *",
        now,
    )
    return [Duty(r["duty_id"], r["officer_id"], r["place"], r["starts_at"], r["ends_at"]) for r in rows]


async def booked_for_officer(
    conn: asyncpg.Connection, officer_id: str, starts_at: datetime, ends_at: datetime
) -> int:
    """How many appointments are booked with the officer within a span."""
    found: int = await conn.fetchval(
        "select count(*) from appointments where status = 'booked' and state->>'officer_id' = $1"
        " and starts_at >= $2 and starts_at < $3",
        officer_id,
        starts_at,
        ends_at,
    )
    return found


async def count_sent(conn: asyncpg.Connection, day: date) -> int:
    """One more text Notify took on ``day`` (UTC); returns the day's count so far."""
    sent: int = await conn.fetchval(
        "insert into texts_sent_per_day (day, sent) values ($1, 1)"
        " on conflict (day) do update set sent = texts_sent_per_day.sent + 1 returning sent",
        day,
    )
    return sent


async def sent_on(conn: asyncpg.Connection, day: date) -> int:
    """How many texts Notify took on ``day`` (UTC)."""
    sent: int | None = await conn.fetchval("select sent from texts_sent_per_day where day = $1", day)
    return sent or 0
