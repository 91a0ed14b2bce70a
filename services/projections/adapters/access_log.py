"""The access log the Data Protection Act 2018 (s.62) asks for: who processed whose personal data.

Consultations (an officer's day opened) are written here, as ``PersonalDataAccessed`` events
appended to the projections' own event store, one stream per London day
(``access-log:{YYYY-MM-DD}``), each hash-chained to the one before: the table refuses updates
and deletes, and ``appointments audit verify`` recomputes the chain. They are written before the
data is sent, in the request's own connection: no opening goes unlogged.

The other operations are read from events already recorded, each kept (and chained) in the
store of the service that did it: collection (a caller's details and briefing taken in
``AppointmentRequested``, ``SlotBooked``, ``DiaryCarVisitBooked``, ``WaitlistJoined``, or a
reply text kept in ``ReplyReceived``), alteration (the appointment moved, handed to another
officer, cancelled, attended or missed, with or without a sealed note) and disclosure (a text to
the caller handed to the SMS gateway: ``SmsDelivered`` or ``SmsFailed`` of a text queued for
their appointment). Every entry names people by subject id and appointments by id, never what
their data says. A caller's replies read in clear from the notifications service (``GET
/appointments/{id}/messages``) are consultations too: the notifications record each as
``RepliesRead`` in their own chained store and publish it, and they are read here from the history
(``recorded_in`` notifications). There is no erasure event: an erasure is the key store's
tombstone (when and by whom), which ``appointments subject`` shows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

import asyncpg

from schemas.audit import PersonalDataAccessed, PersonalDataErased
from schemas.base import parse_event
from schemas.envelope import Envelope, source_of
from services.common.eventstore import canonical_json, chain_hash
from services.common.london import local

STREAM_PREFIX = "access-log:"
Operation = Literal["consultation", "collection", "alteration", "disclosure", "erasure"]
COLLECTIONS = ("AppointmentRequested", "SlotBooked", "DiaryCarVisitBooked", "WaitlistJoined")
ALTERATIONS = (
    "AppointmentRescheduled", "AppointmentReassigned", "AppointmentDisplaced",
    "AppointmentCancelled", "AppointmentAttended", "AppointmentMissed",
)  # fmt: skip
GATEWAY = "the SMS gateway (GOV.UK Notify)"
REPLIES_READ = "RepliesRead"


def stream_of(accessed: PersonalDataAccessed) -> str:
    """The access log's stream of the London day the access happened on."""
    return f"{STREAM_PREFIX}{local(accessed.accessed_at).date().isoformat()}"


_HEAD = "select version, hash from events where stream_id = $1 order by version desc limit 1"
_INSERT = """
insert into events (stream_id, version, event_id, event_type, schema_version, data,
                    correlation_id, causation_id, actor, occurred_at, prev_hash, hash)
values ($1, $2, $3, $4, $5, $6::jsonb, $7, null, $8, $9, $10, $11)
"""


async def append_access(
    conn: asyncpg.Connection, accessed: PersonalDataAccessed, correlation_id: str | None
) -> Envelope:
    """Append one access to its day's stream, chained to the stream's last event; committed on return."""
    actor = f"{accessed.role}:{accessed.accessed_by}"
    return await _append(conn, stream_of(accessed), accessed, actor, accessed.accessed_at, correlation_id)


async def append_erasure(conn: asyncpg.Connection, erased: PersonalDataErased) -> Envelope:
    """Append an erasure to its London day's stream of the access log, chained; committed on return."""
    stream = f"{STREAM_PREFIX}{local(erased.erased_at).date().isoformat()}"
    return await _append(conn, stream, erased, erased.erased_by, erased.erased_at, None)


async def _append(
    conn: asyncpg.Connection,
    stream: str,
    event: PersonalDataAccessed | PersonalDataErased,
    actor: str,
    at: datetime,
    correlation_id: str | None,
) -> Envelope:
    """Append one event to an access-log stream, chained to the stream's last event.

    The day's writers take turns (a transaction-scoped advisory lock on the stream), so each
    reads the head it chains to; the store's unique (stream, version) stands behind it.
    """
    event_id = uuid.uuid4()
    envelope = Envelope(
        event_id=event_id,
        event_type=event.event_type,
        schema_version=event.schema_version,
        source=source_of("projections"),
        subject=stream,
        time=at,
        correlation_id=correlation_id or str(event_id),
        causation_id=None,
        actor=actor,
        data=event.model_dump(mode="json"),
    )
    data = canonical_json(envelope.data)
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 62))", stream)
        head = await conn.fetchrow(_HEAD, stream)
        version = 1 if head is None else head["version"] + 1
        prev: bytes | None = None if head is None else head["hash"]
        await conn.execute(
            _INSERT, stream, version, event_id, envelope.event_type, envelope.schema_version, data,
            envelope.correlation_id, envelope.actor, envelope.time, prev,
            chain_hash(prev, envelope, version, data),
        )  # fmt: skip
    return envelope


@dataclass(frozen=True)
class Entry:
    """One processing of one person's data: what, when, by whom, through what, to whom."""

    at: datetime
    operation: Operation
    subject_id: str
    appointment_id: str | None
    by: str | None
    what: str
    channel: str
    recipient: str | None
    event_id: str
    recorded_in: str


def what_was_opened(accessed: PersonalDataAccessed) -> str:
    """An access in words: the officer's day opened, or how the appointments were found."""
    if accessed.view == "appointment-search":
        return "appointments found by the caller's phone number"
    return f"{accessed.view} of officer {accessed.officer_id} on {accessed.day}"


def erasure(row: asyncpg.Record, erased: PersonalDataErased) -> Entry:
    """An erasure as an entry: who destroyed the key, and what was emptied (counts, never the data)."""
    key = "key destroyed" if erased.key_destroyed else "key already destroyed"
    what = (
        f"erased: {key}; emptied from {erased.projections_events} history event(s),"
        f" {erased.notifications_rows} notifications row(s), {erased.topic_records_deleted} topic record(s)"
    )
    return Entry(
        at=erased.erased_at, operation="erasure", subject_id=erased.subject_id, appointment_id=None,
        by=row["actor"], what=what, channel=erased.channel, recipient=None, event_id=str(row["event_id"]),
        recorded_in="projections",
    )  # fmt: skip


def consultations(rows: Sequence[asyncpg.Record], subject: str | None) -> list[Entry]:
    """The access log's own events as entries: one per appointment opened (the subject's only, if
    named), and one per erasure."""
    entries = []
    for row in rows:
        accessed = parse_event(row["event_type"], row["schema_version"], json.loads(row["data"]))
        if isinstance(accessed, PersonalDataErased):
            if subject is None or accessed.subject_id == subject:
                entries.append(erasure(row, accessed))
            continue
        assert isinstance(accessed, PersonalDataAccessed)
        for record in accessed.records:
            if record.subject_id is None or (subject is not None and record.subject_id != subject):
                continue
            entry = Entry(
                at=accessed.accessed_at, operation="consultation", subject_id=record.subject_id,
                appointment_id=record.appointment_id, by=row["actor"],
                what=what_was_opened(accessed),
                channel=accessed.channel, recipient=None, event_id=str(row["event_id"]),
                recorded_in="projections",
            )  # fmt: skip
            entries.append(entry)
    return entries


def replies_read(rows: Sequence[asyncpg.Record], subject: str | None) -> list[Entry]:
    """Replies read in clear from the notifications (``RepliesRead``), one entry per subject shown."""
    entries = []
    for row in rows:
        subjects: list[str] = json.loads(row["subject_ids"])
        for subject_id in subjects:
            if subject is not None and subject_id != subject:
                continue
            entry = Entry(
                at=row["occurred_at"], operation="consultation", subject_id=subject_id,
                appointment_id=row["appointment_id"], by=row["actor"],
                what=f"the caller's replies to its texts ({row['replies']} read in clear)",
                channel=row["channel"], recipient=None, event_id=str(row["event_id"]),
                recorded_in="notifications",
            )  # fmt: skip
            entries.append(entry)
    return entries


async def every_replies_read(
    conn: asyncpg.Connection, since: datetime | None, until: datetime | None, limit: int
) -> list[Entry]:
    """Every RepliesRead in [since, until), oldest first, at most ``limit`` (by the history's time index)."""
    where, args = [f"event_type = '{REPLIES_READ}'"], list[object]()
    for condition, value in (("occurred_at >= ${}", since), ("occurred_at < ${}", until)):
        if value is not None:
            args.append(value)
            where.append(condition.format(len(args)))
    rows = await conn.fetch(
        f"select {_COLUMNS}, {_READ_COLUMNS} from event_history where {' and '.join(where)}"
        f" order by occurred_at, event_id limit {int(limit)}",
        *args,
    )
    return replies_read(rows, None)


def _topic_of(topic: str) -> str:
    """A recorded topic without the deployment's prefix (a test run's, say)."""
    for name in ("booking.events", "notifications.events"):
        if topic.endswith(name):
            return name
    return topic


def _from_history(
    row: asyncpg.Record, operation: Operation, subject: str, recipient: str | None = None
) -> Entry:
    topic = _topic_of(row["topic"])
    return Entry(
        at=row["occurred_at"], operation=operation, subject_id=subject, appointment_id=row["appointment_id"],
        by=row["actor"], what=row["event_type"], channel=topic, recipient=recipient,
        event_id=str(row["event_id"]), recorded_in=topic.partition(".")[0],
    )  # fmt: skip


_COLUMNS = "event_id, topic, event_type, actor, occurred_at, appointment_id, subject"
# What a RepliesRead says beyond its row: whose replies, how many, through what.
_READ_COLUMNS = (
    "data -> 'subject_ids' as subject_ids, (data ->> 'replies')::int as replies,"
    " data ->> 'channel' as channel"
)
_LIST = ", ".join(f"'{name}'" for name in COLLECTIONS)
_ALTERED = ", ".join(f"'{name}'" for name in ALTERATIONS)


async def recorded_operations(conn: asyncpg.Connection, subject: str) -> list[Entry]:
    """The subject's collections, alterations and disclosures, read from the events recorded.

    Each read goes by an index: the callers' subject ids, the appointments' ids, the texts'
    message streams (migration 007). The predicates are written out so the partial indexes apply.
    """
    collected = await conn.fetch(
        f"select {_COLUMNS} from event_history where event_type in ({_LIST})"
        f" and data #>> '{{caller,subject_id}}' = $1",
        subject,
    )
    entries = [_from_history(r, "collection", subject) for r in collected]
    appointments = sorted({r["appointment_id"] for r in collected if r["appointment_id"]})
    if not appointments:
        return entries
    later = await conn.fetch(
        f"select {_COLUMNS}, data ->> 'recipient' as recipient, data ->> 'message_id' as message_id,"
        f" {_READ_COLUMNS} from event_history where appointment_id = any($1::text[])"
        f" and event_type in ({_ALTERED}, 'ReplyReceived', 'SmsQueued', '{REPLIES_READ}')",
        appointments,
    )
    messages: dict[str, str] = {}  # the text's stream -> its appointment
    for row in later:
        if row["event_type"] == REPLIES_READ:
            entries += replies_read([row], subject)
        elif row["event_type"] == "ReplyReceived":
            entries.append(_from_history(row, "collection", subject))
        elif row["event_type"] == "SmsQueued":
            if (row["recipient"] or "public") == "public":
                messages[f"message:{row['message_id']}"] = row["appointment_id"]
        else:
            entries.append(_from_history(row, "alteration", subject))
    if messages:
        outcomes = await conn.fetch(
            f"select {_COLUMNS} from event_history"
            " where event_type in ('SmsDelivered', 'SmsFailed') and subject = any($1::text[])",
            list(messages),
        )
        entries += [
            replace(_from_history(r, "disclosure", subject, GATEWAY), appointment_id=messages[r["subject"]])
            for r in outcomes
        ]
    return entries


async def access_log(
    conn: asyncpg.Connection,
    subject: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[Entry]:
    """Entries in [since, until), oldest first, at most ``limit``: the subject's, or every consultation."""
    # Only the conditions asked for, so the planner sees each one (the subjects' GIN index, the time's).
    where = ["stream_id like 'access-log:%'", "event_type in ('PersonalDataAccessed', 'PersonalDataErased')"]
    args: list[object] = []
    for condition, value in (
        ("data -> 'subject_ids' @> ${}::jsonb", None if subject is None else json.dumps([subject])),
        ("occurred_at >= ${}", since),
        ("occurred_at < ${}", until),
    ):
        if value is not None:
            args.append(value)
            where.append(condition.format(len(args)))
    # An opening is one entry or more, so ``limit`` rows are enough.
    rows = await conn.fetch(
        "select event_id, actor, occurred_at, event_type, schema_version, data::text as data from events"
        f" where {' and '.join(where)} order by occurred_at, stream_id, version limit {int(limit)}",
        *args,
    )
    entries = consultations(rows, subject)
    if subject is None:
        entries += await every_replies_read(conn, since, until, limit)
    else:
        entries += [
            e
            for e in await recorded_operations(conn, subject)
            if (since is None or e.at >= since) and (until is None or e.at < until)
        ]
    entries.sort(key=lambda e: (e.at, e.event_id))
    return entries[:limit]
