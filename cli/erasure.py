"""Erasure: destroy a data subject's key in booking's key store, then remove their copies elsewhere.

Events are never changed (the chain would break, and Kafka keeps its copies): every copy of a
person's details is ciphertext under their own key, and destroying the key (the tombstone keeps
when and by whom) makes all of it unreadable, in PostgreSQL, on Kafka and in any replay. The
projections' history has their sealed values emptied as well, and the notifications' own tables
lose their sealed number, its keyed hash and their replies' words
(``services.notifications.adapters.erasure``). Last, the three topics that carry their details
in clear lose what their readers have taken (``cli.clear_topics``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import asyncpg

from cli.clear_topics import TopicsCleared, clear_topics
from cli.operator import owner_connection
from schemas.audit import PersonalDataErased
from schemas.topics import CONTROLROOM_REQUESTS, SMS_INBOUND, SMS_OUTBOUND
from services.booking.adapters.personal import normalise_phone
from services.common.config import Settings
from services.common.shredding import KEYSTORE_DATABASE, PgKeyStore, subject_id_for
from services.notifications.adapters.erasure import Erased
from services.notifications.adapters.erasure import erase_subject as erase_from_notifications
from services.projections.adapters.access_log import append_erasure
from services.projections.adapters.erasure import erase_subject as erase_from_projections


@dataclass(frozen=True)
class Erasure:
    """What one erasure did: whether the subject was known, the key destroyed now, events emptied."""

    subject_id: str
    erased_by: str
    known: bool
    key_destroyed: bool = False
    projections_events: int = 0
    notifications: Erased = field(default_factory=Erased)
    topics: TopicsCleared = field(default_factory=TopicsCleared)
    # The access log's entry of it (its event id), in the projections' chained store.
    logged_as: str | None = None


async def erase_subject(cfg: Settings, subject_id: str, erased_by: str) -> Erasure:
    """Destroy the subject's key, then empty their sealed values in the projections (both idempotent)."""
    pool = await asyncpg.create_pool(cfg.database_url(KEYSTORE_DATABASE), min_size=1, max_size=1)
    assert pool is not None
    try:
        if await pool.fetchval("select 1 from subject_keys where subject_id = $1", subject_id) is None:
            return Erasure(subject_id, erased_by, known=False)
        # The key first: it is what erases; the projections' copy is emptied after, and again if rerun.
        destroyed = await PgKeyStore(pool).erase(subject_id, erased_by)
    finally:
        await pool.close()
    emptied, notified = 0, Erased()
    # The keys of the subject's records on the clear topics, before notifications forget the hash.
    keys = await subject_keys(cfg, subject_id)
    conn = await owner_connection(cfg, "projections")
    if conn is not None:
        try:
            emptied = await erase_from_projections(conn, subject_id)
        finally:
            await conn.close()
    conn = await owner_connection(cfg, "notifications")
    if conn is not None:
        try:
            notified = await erase_from_notifications(conn, subject_id)
        finally:
            await conn.close()
    cleared = await clear_topics(cfg, keys)
    done = Erasure(subject_id, erased_by, True, destroyed, emptied, notified, cleared)
    return await _logged(cfg, done)


async def _logged(cfg: Settings, done: Erasure) -> Erasure:
    """The erasure written to the access log (DPA 2018 s.62), chained in the projections' store."""
    conn = await owner_connection(cfg, "projections")
    if conn is None:
        return done
    erased = PersonalDataErased(
        subject_id=done.subject_id, erased_by=done.erased_by, channel="appointments erase",
        key_destroyed=done.key_destroyed, projections_events=done.projections_events,
        notifications_rows=done.notifications.total, topic_records_deleted=done.topics.deleted,
        subject_ids=(done.subject_id,), erased_at=datetime.now(UTC),
    )  # fmt: skip
    try:
        envelope = await append_erasure(conn, erased)
    finally:
        await conn.close()
    return replace(done, logged_as=str(envelope.event_id))


_REQUESTS = """
select distinct data ->> 'request_id' from events
where data #>> '{caller,subject_id}' = $1 and data ->> 'request_id' is not null
"""
_MESSAGES = "select message_id::text from texts_due where subject_id = $1"
# The keyed hash of their number: beside their appointments until erased, and on every reply event.
_NUMBER_HASHES = """
select number_hash from appointments where state ->> 'subject_id' = $1 and number_hash is not null
union
select data ->> 'from_hash' from events
where event_type = 'ReplyReceived' and data #>> '{body,subject_id}' = $1
"""


async def subject_keys(cfg: Settings, subject_id: str) -> dict[str, frozenset[bytes]]:
    """The Kafka keys of the subject's records on the topics that carry them in clear."""
    found: dict[str, frozenset[bytes]] = {}
    for database, topic, query in (
        ("booking", CONTROLROOM_REQUESTS, _REQUESTS),
        ("notifications", SMS_OUTBOUND, _MESSAGES),
        ("notifications", SMS_INBOUND, _NUMBER_HASHES),
    ):
        conn = await owner_connection(cfg, database)
        if conn is None:
            continue
        try:
            rows = await conn.fetch(query, subject_id)
        finally:
            await conn.close()
        found[topic] = frozenset(str(r[0]).encode() for r in rows if r[0])
    return found


@dataclass(frozen=True)
class FoundSubject:
    """A data subject: whether the key store knows them, when erased, how many appointments name them."""

    subject_id: str
    in_keystore: bool
    erased_at: datetime | None
    erased_by: str | None
    appointments: int


_APPOINTMENTS = """
select data #>> '{caller,subject_id}' as subject_id, count(distinct data ->> 'appointment_id') as appointments
from events where data #>> '{caller,subject_id}' = any($1::text[]) group by 1
"""


async def _described(cfg: Settings, subject_ids: list[str]) -> list[FoundSubject]:
    keys = await asyncpg.connect(cfg.database_url(KEYSTORE_DATABASE))
    try:
        rows = await keys.fetch(
            "select subject_id, erased_at, erased_by from subject_keys where subject_id = any($1::text[])",
            subject_ids,
        )
    finally:
        await keys.close()
    booking = await asyncpg.connect(cfg.database_url("booking"))
    try:
        counts = {r["subject_id"]: r["appointments"] for r in await booking.fetch(_APPOINTMENTS, subject_ids)}
    finally:
        await booking.close()
    known = {r["subject_id"]: r for r in rows}
    return [
        FoundSubject(
            s,
            s in known,
            known[s]["erased_at"] if s in known else None,
            known[s]["erased_by"] if s in known else None,
            counts.get(s, 0),
        )
        for s in subject_ids
        if s in known or s in counts
    ]


async def subjects_by_case(cfg: Settings, case_reference: str) -> list[FoundSubject]:
    """The subjects whose bookings (or waitlist entries) carry this case reference."""
    booking = await asyncpg.connect(cfg.database_url("booking"))
    try:
        rows = await booking.fetch(
            "select distinct data #>> '{caller,subject_id}' as subject_id from events"
            " where data #>> '{briefing,case_reference}' = $1 and data #>> '{caller,subject_id}' is not null"
            " order by 1",
            case_reference,
        )
    finally:
        await booking.close()
    return await _described(cfg, [r["subject_id"] for r in rows])


# After an erasure the same number is a new subject ("#1", "#2", ...; booking's seal_caller).
_GENERATIONS = 50


async def subjects_by_phone(cfg: Settings, phone: str) -> list[FoundSubject]:
    """The subjects a phone number has been, by its keyed hash (raises InvalidPersonalData)."""
    e164 = normalise_phone(phone, "phone", production=cfg.is_production)
    candidates = [
        subject_id_for("caller", e164 if n == 0 else f"{e164}#{n}", cfg.token_secret)
        for n in range(_GENERATIONS)
    ]
    return await _described(cfg, candidates)
