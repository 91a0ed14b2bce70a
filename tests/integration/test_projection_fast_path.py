"""The projections' bulk writes (COPY, multi-row upserts) leave the read models the plain statements left.

The reference below is the write path as it stood before the bulk one: every row
through ``json_populate_recordset`` with ``on conflict``, one event at a time. A
generated morning of a county (bookings, visits, held offers, and what happens to
them after, some events published twice) goes through both; the diary, the history
and the diary-days index must come out the same.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import fields
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from schemas.base import DomainEvent, parse_event
from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentDisplaced,
    AppointmentMissed,
    AppointmentOffered,
    AppointmentReassigned,
    DiaryCarVisitBooked,
    OfferLapsed,
    Slot,
)
from schemas.envelope import Envelope
from services.common.consumer import IdempotentConsumer, Position
from services.projections.adapters import batch, store
from services.projections.adapters.batch import entry_of
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.diary_days import Fact, fold
from tests.integration.test_projection_batches import (
    BRIEFING,
    CALLER,
    MakeDb,
    Rec,
    booked,
    booking_consumer,
    clock,
    moved,
    projections_db,
    read_models,
    slot,
)

pytestmark = pytest.mark.integration
TOPIC = "booking.events"
DAYS = [date(2027, 6, d) for d in range(2, 6)]
STATIONS = ("stevenage", "hitchin", "hertford")
DIARY_COLUMNS = [f.name for f in fields(DiaryEntry)]


def first_event(rng: random.Random, aid: str, minute: int) -> DomainEvent:
    day, hour = rng.choice(DAYS), rng.randrange(9, 19)
    match rng.randrange(3):
        case 0:
            return booked(aid, rng.choice(STATIONS), day, hour)
        case 1:
            return DiaryCarVisitBooked(
                appointment_id=aid, diary=f"diary-car:dacorum:{day}", district_id="dacorum",
                diary_car_id="dacorum-diary-car", officer_id="o-9", window_starts_at=slot(day, hour),
                window_ends_at=slot(day, hour + 2), caller=CALLER, briefing=BRIEFING, booked_at=clock(minute),
            )  # fmt: skip
        case _:
            return AppointmentOffered(
                appointment_id=aid, diary=f"station:hitchin:{day}", officer_id="o-3",
                expires_at=clock(minute + 60), offered_at=clock(minute),
                slot=Slot(place="station", place_id="hitchin", starts_at=slot(day, hour),
                          ends_at=slot(day, hour + 1), room_id="hitchin-room-1"),
            )  # fmt: skip


def later_event(rng: random.Random, aid: str, minute: int) -> DomainEvent:
    day, hour = rng.choice(DAYS), rng.randrange(9, 19)
    diary, starts = f"station:stevenage:{day}", slot(day, hour)
    # Now and then an event decided earlier than its predecessor: the index keeps the earliest.
    at = clock(minute - rng.choice((0, 0, 0, 30)))
    match rng.randrange(7):
        case 0:
            return moved(aid, day, hour)
        case 1:
            return AppointmentReassigned(
                appointment_id=aid, diary=diary, from_officer_id="o-1", to_officer_id=f"o-{rng.randrange(9)}",
                starts_at=starts, ends_at=slot(day, hour + 1), reason="officer-withdrawn", reassigned_at=at,
            )  # fmt: skip
        case 2:
            return AppointmentCancelled(
                appointment_id=aid, diary=diary, starts_at=starts, initiated_by="public",
                reason="no-longer-needed", cancelled_at=at,
            )  # fmt: skip
        case 3:
            return AppointmentAttended(
                appointment_id=aid, diary=diary, officer_id="o-1", starts_at=starts, outcome="advice-given",
                recorded_at=at,
            )  # fmt: skip
        case 4:
            return AppointmentMissed(
                appointment_id=aid, diary=diary, starts_at=starts, missed_by="public",
                reason="did-not-attend", recorded_at=at,
            )  # fmt: skip
        case 5:
            return AppointmentDisplaced(
                appointment_id=aid, diary=diary, officer_id="o-1", starts_at=starts, withdrawal_id="w-1",
                reason="officer-withdrawn", displaced_at=at,
            )  # fmt: skip
        case _:
            return OfferLapsed(appointment_id=aid, diary=diary, starts_at=starts, lapsed_at=at)


def morning(seed: int, appointments: int) -> list[Envelope]:
    """A county's generated morning: each appointment's events in order, the appointments interleaved."""
    rng = random.Random(seed)
    queues = [
        [first_event(rng, f"a{n}", 0), *(later_event(rng, f"a{n}", 0) for _ in range(rng.randrange(4)))]
        for n in range(appointments)
    ]
    envs: list[Envelope] = []
    while queues:
        queue = rng.choice(queues)
        event = queue.pop(0)
        if not queue:
            queues.remove(queue)
        data = event.model_dump(mode="json")
        env = Envelope(
            event_id=uuid.UUID(int=rng.getrandbits(128)), event_type=event.event_type,
            schema_version=event.schema_version, source="urn:herts-police:station-appointments:booking",
            subject=data["diary"], time=clock(len(envs)) - timedelta(seconds=rng.choice((0, 0, 90))),
            correlation_id=f"c-{len(envs)}", causation_id=rng.choice((None, "cause")),
            actor=rng.choice((None, "call-taker:ct-1")), data=data,
        )  # fmt: skip
        envs.append(env)
    return envs


def published(rng: random.Random, envs: list[Envelope]) -> list[Rec]:
    """The records on a three-partition topic, keyed by appointment; some events published twice."""
    offsets = [0, 0, 0]
    recs = []
    for env in [*envs, *rng.sample(envs, len(envs) // 10)]:
        partition = int(env.data["appointment_id"][1:]) % 3
        value, hs = env.kafka_value(), env.kafka_headers()
        recs.append(Rec(TOPIC, partition, offsets[partition], env.data["appointment_id"].encode(), value, hs))
        offsets[partition] += 1
    return recs


async def populate(conn: asyncpg.Connection, table: str, rows: list[Mapping[str, Any]], tail: str) -> None:
    columns = ", ".join(f'"{name}"' for name in rows[0])
    await conn.execute(
        f"insert into {table} ({columns}) select {columns}"
        f" from json_populate_recordset(null::{table}, $1::json) {tail}",
        json.dumps(rows, default=str),
    )


async def reference_apply(conn: asyncpg.Connection, env: Envelope, pos: Position) -> None:
    """One booking event through the plain statements the projections used before the bulk ones."""
    history = {
        "event_id": env.event_id, "topic": pos.topic, "partition": pos.partition, "offset": pos.offset,
        "event_type": env.event_type, "schema_version": env.schema_version, "source": env.source,
        "subject": env.subject, "appointment_id": env.data.get("appointment_id"), "actor": env.actor,
        "correlation_id": env.correlation_id, "causation_id": env.causation_id, "occurred_at": env.time,
        "data": env.data,
    }  # fmt: skip
    await populate(conn, "event_history", [history], "on conflict (event_id) do nothing")
    aid = env.data["appointment_id"]
    fact = Fact(aid, env.event_id, env.time, parse_event(env.event_type, env.schema_version, env.data))
    rows = await conn.fetch("select * from diary where appointment_id = $1 for update", aid)
    folded = fold({r["appointment_id"]: entry_of(r) for r in rows}, [fact])
    for entry, event_id in folded.changed.values():
        row = {c: getattr(entry, c) for c in DIARY_COLUMNS} | {
            "local_day": entry.local_day,
            "last_event_id": event_id,
        }
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "appointment_id")
        await populate(conn, "diary", [row], f"on conflict (appointment_id) do update set {updates}")
    for ((place, place_id, day), appointment_id), since in folded.days.items():
        await populate(
            conn,
            "diary_days",
            [{"place": place, "place_id": place_id, "local_day": day, "appointment_id": appointment_id,
              "since": since}],
            "on conflict (place, place_id, local_day, appointment_id) do update set since = excluded.since"
            " where excluded.since < diary_days.since",
        )  # fmt: skip


async def reference_models(make: MakeDb, recs: list[Rec]) -> dict[str, list[dict[str, Any]]]:
    pool = await projections_db(make, "proj_reference")
    seen: set[uuid.UUID] = set()
    async with pool.acquire() as conn:
        for rec in recs:
            env = Envelope.from_kafka(rec.headers, rec.value or b"")
            if env.event_id not in seen:
                seen.add(env.event_id)
                async with conn.transaction():
                    await reference_apply(conn, env, Position(rec.topic, rec.partition, rec.offset))
    return await read_models(pool)


@pytest.mark.parametrize("seed", [7, 2027])
async def test_bulk_batches_of_any_size_leave_what_the_plain_statements_left(
    fresh_database: MakeDb, seed: int
) -> None:
    rng = random.Random(seed)
    envs = morning(seed, appointments=120)
    recs = published(rng, envs)
    expected = await reference_models(fresh_database, recs)
    pool = await projections_db(fresh_database, "proj_bulk")
    consumer = booking_consumer("projections-booking", pool)
    outcomes: list[str] = []
    start = 0
    while start < len(recs):
        size = rng.choice((1, 7, 50, 400))
        outcomes += await consumer.handle_batch(recs[start : start + size])
        start += size
    assert outcomes.count("applied") == len(envs) and "deadlettered" not in outcomes
    models = await read_models(pool)
    assert len(models["diary"]) > 100 and len(models["history"]) > 200 and len(models["days"]) > 100
    assert models == expected


async def test_an_event_its_schema_refuses_mid_copy_goes_aside_with_why_and_the_others_apply_once(
    fresh_database: MakeDb,
) -> None:
    rng = random.Random(5)
    envs = morning(5, appointments=40)
    recs = published(rng, envs)
    broken = next(r for r in recs[len(recs) // 2 :] if b'"briefing"' in (r.value or b""))
    data = json.loads(broken.value or b"")
    data["briefing"]["thrive_risk"] = "enormous"  # not a THRIVE grade
    poison = Rec(
        broken.topic, broken.partition, broken.offset, broken.key, json.dumps(data).encode(), broken.headers
    )
    recs = [poison if r is broken else r for r in recs]
    dead: list[dict[str, str]] = []

    async def publish(topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        dead.append({k: v.decode() for k, v in headers} | {"topic": topic})

    pool = await projections_db(fresh_database, "proj_poison")
    consumer = IdempotentConsumer(
        "projections-booking", pool, store.apply_booking_event, publish, batch.apply_booking_events
    )
    outcomes = await consumer.handle_batch(recs)
    assert outcomes[recs.index(poison)] == "deadlettered" and outcomes.count("deadlettered") == 1
    assert [(d["topic"], d["dlq_source_offset"]) for d in dead] == [("deadletter", str(poison.offset))]
    assert "thrive_risk" in dead[0]["dlq_reason"]
    # The connection that aborted the COPY serves the next batch: a republished record is a duplicate.
    assert await consumer.handle_batch(recs[:3]) == ["duplicate"] * 3
    expected = await reference_models(fresh_database, [r for r in recs if r is not poison])
    assert await read_models(pool) == expected


async def test_any_topics_history_by_copy_is_what_the_plain_insert_kept(fresh_database: MakeDb) -> None:
    odd: list[dict[str, Any]] = [
        {"appointment_id": 123, "officer_id": "o-1"},
        {"appointment_id": {"nested": [1, 2.5, None]}, "note": "ünïcödé ✓ \u2028"},
        {"appointment_id": None, "big": 123456789012345678901234567890, "tiny": 1e-300, "flag": False},
        {"reason": "no appointment here", "list": [{"a": "b"}, [], {}]},
        {"appointment_id": "a-1", "quote": 'say "hi"\\n', "tab": "\t"},
    ]
    envs = [
        Envelope(
            event_id=uuid.uuid4(), event_type="OfficerRegistered", schema_version=1, source="urn:roster",
            subject=f"officer-{n}", time=clock(n), correlation_id=f"c-{n}", data=data,
        )
        for n, data in enumerate(odd)
    ]  # fmt: skip
    plain, bulk = (
        await projections_db(fresh_database, "proj_plain"),
        await projections_db(fresh_database, "proj_bulk"),
    )
    async with plain.acquire() as conn:
        for n, env in enumerate(envs):
            row = {
                "event_id": env.event_id, "topic": "roster.events", "partition": 0, "offset": n,
                "event_type": env.event_type, "schema_version": env.schema_version, "source": env.source,
                "subject": env.subject, "appointment_id": env.data.get("appointment_id"), "actor": env.actor,
                "correlation_id": env.correlation_id, "causation_id": env.causation_id,
                "occurred_at": env.time, "data": env.data,
            }  # fmt: skip
            await populate(conn, "event_history", [row], "on conflict (event_id) do nothing")
    async with bulk.acquire() as conn:
        positions = [Position("roster.events", 0, n) for n in range(len(envs))]
        await batch.record_events(conn, list(zip(envs, positions, strict=True)))
        await batch.record_events(conn, list(zip(envs, positions, strict=True)))  # kept once
    assert (await read_models(bulk))["history"] == (await read_models(plain))["history"]
