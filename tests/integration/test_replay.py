"""`appointments replay` rebuilds the read models from the topics and swaps them in, the views answering.

On the real servers, with the session's booking and projections services: appointments are
booked, moved and cancelled, and the topic also holds a move in an older event version (read
through its upcaster) and a record outside the contract (applied neither live nor replayed);
once the live projections have applied everything, a replay rebuilds every model (in this
process, and again in two worker processes), and each table it replaced is compared with its
rebuilt copy row by row.
While it rebuilds, the live diary answers (and an appointment booked meanwhile is followed);
a replay of one model leaves the other's table as it was, down to when each event was received.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.booking import AppointmentRescheduledV1, WaitlistJoined
from schemas.envelope import source_of
from schemas.notifications import CallBackRequested, SatisfactionRecorded, SmsQueued
from schemas.topics import BOOKING_EVENTS, NOTIFICATIONS_EVENTS, ROSTER_EVENTS
from services.common import kafka
from services.common.auth import Role
from services.common.commands import Metadata, outgoing
from services.common.config import Settings
from services.common.kafka import partitions_of
from services.projections.adapters.models import models_named
from services.projections.adapters.replay import REPLACED, Progress, Replay
from tests.integration.test_first_flow import booking_form
from tests.integration.test_projection_batches import booked, slot
from tests.support import roster
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
APPOINTMENTS = Path(sys.executable).with_name("appointments")
STATION, OTHER_STATION = "watford", "hemel-hempstead"
DAY, NEXT_DAY = "2027-06-15", "2027-06-16"  # days no other test books
TOPICS = (BOOKING_EVENTS, ROSTER_EVENTS, NOTIFICATIONS_EVENTS)
# Each table of the projections' read models and positions, and the key it is compared in.
TABLES = {
    "event_history": "event_id",
    "diary": "appointment_id",
    "diary_days": "place, place_id, local_day, appointment_id",
    "kpi_appointments": "appointment_id",
    "kpi_districts": "district_id",
    "texts": "message_id",
    "text_replies": "message_id",
    "call_backs": "appointment_id",
    "availability_county": "county_id",
    "availability_duties": "duty_id",
    "availability_withdrawals": "withdrawal_id",
    "waitlist_entries": "appointment_id",
    "consumer_offsets": "consumer, topic, partition",
    "applied_events": "consumer, event_id",
}
# The one column that legitimately differs: when the projections received the event. The
# live table received each as it was published, the rebuilt one all at the replay (it is the
# database's now() at insert; nothing reads it but the history's own columns).
RUN_DEPENDENT = {"event_history": {"received_at"}}


async def publish_past(settings: Settings, appointment_id: str) -> tuple[str, str]:
    """An appointment booked, then moved by a version-1 event (free-text reason), as an older
    booking published it; and a record its schema refuses. Returns the two events' ids."""
    day = date.fromisoformat(NEXT_DAY)
    first = booked(appointment_id, STATION, day, 17)
    moved = AppointmentRescheduledV1(
        appointment_id=appointment_id, diary=first.diary, from_diary=first.diary,
        from_starts_at=slot(day, 16), from_ends_at=slot(day, 17), starts_at=slot(day, 17),
        ends_at=slot(day, 18), room_id=first.room_id, officer_id="o-1", initiated_by="police",
        reason="room repairs", caller_to_be_told=True, rescheduled_at=datetime.now(UTC),
    )  # fmt: skip
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor="call-taker:test", now=datetime.now(UTC))
    records = [outgoing(e, first.diary, source_of("booking"), meta) for e in (first, moved)]
    # A caller waiting for the station that day (the waitlist model's table).
    waiting = WaitlistJoined(
        appointment_id=f"replay-wait-{appointment_id}", diary=f"waitlist:station:{STATION}", place="station",
        place_id=STATION, from_day=day, to_day=day, caller=first.caller, briefing=first.briefing,
        joined_at=datetime.now(UTC),
    )  # fmt: skip
    records.append(outgoing(waiting, waiting.diary, source_of("booking"), meta))
    # Its texts (the texts model's three tables): queued, a call back asked for, a score.
    message_id, now = f"replay-text-{appointment_id}", datetime.now(UTC)
    texts = [
        SmsQueued(
            message_id=message_id, appointment_id=appointment_id, template="booked", template_id="t",
            reference=message_id, send_at=now, queued_at=now,
        ),
        CallBackRequested(
            message_id=message_id, appointment_id=appointment_id, reason="text-not-delivered",
            requested_at=now,
        ),
        SatisfactionRecorded(
            message_id=f"{message_id}-reply", appointment_id=appointment_id, score=4, recorded_at=now
        ),
    ]  # fmt: skip
    records += [outgoing(e, "-", source_of("notifications"), meta) for e in texts]
    # A withdrawal (the availability model's third table), of an officer with no duty to cut.
    withdrawn = roster.withdrawal(f"replay-officer-{appointment_id}", slot(day, 16), slot(day, 17))
    records.append(outgoing(withdrawn, f"officer:{withdrawn.officer_id}", source_of("roster"), meta))
    poison = outgoing(booked(str(uuid.uuid4()), STATION, day, 19), first.diary, source_of("booking"), meta)
    broker = kafka.make_broker(settings.kafka_bootstrap, "test-replay")
    await broker.start()
    try:
        send = kafka.publisher(broker, settings.topic_prefix)
        for out in records:
            await send(out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers())
        # A SlotBooked without its times: outside the contract, applied neither live nor by a replay.
        refused = {k: v for k, v in poison.envelope.data.items() if k not in ("starts_at", "ends_at")}
        value = poison.envelope.model_copy(update={"data": refused}).kafka_value()
        await send(poison.topic, poison.key.encode(), value, poison.envelope.kafka_headers())
    finally:
        await broker.stop()
    return str(records[1].envelope.event_id), str(poison.envelope.event_id)


@pytest.fixture
async def owner(test_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """The projections database, as its owner (as `appointments replay` connects)."""
    conn: asyncpg.Connection = await asyncpg.connect(test_settings.database_url("projections"))
    yield conn
    await conn.close()


async def book(client: httpx.AsyncClient, station: str, day: str, start: str) -> str:
    response = await client.post(f"/stations/{station}/appointments", json=booking_form(day, start))
    assert response.status_code == 201, response.text
    appointment_id: str = response.json()["appointment_id"]
    return appointment_id


async def diary(projections: ServiceProcess, station: str, day: str) -> dict[str, str]:
    """The live diary over HTTP: appointment id -> status."""
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        response = await client.get(f"/diaries/stations/{station}/{day}")
    assert response.status_code == 200, response.text
    return {line["appointment_id"]: line["status"] for line in response.json()["appointments"]}


async def until_in_diary(
    projections: ServiceProcess, station: str, day: str, expected: dict[str, str]
) -> None:
    shown: dict[str, str] = {}
    for _ in range(300):
        shown = await diary(projections, station, day)
        if all(shown.get(a) == status for a, status in expected.items()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the diary of {station} on {day} never showed {expected}: {shown}")


async def topic_ends(settings: Settings) -> dict[tuple[str, int], int]:
    """Each partition's end offset on the event topics the projections read."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [
            TopicPartition(settings.topic(t), p)
            for t in TOPICS
            for p in await partitions_of(settings.kafka_bootstrap, settings.topic(t))
        ]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): end for tp, end in ends.items() if end > 0}


async def caught_up(owner: asyncpg.Connection, settings: Settings) -> dict[tuple[str, int], int]:
    """Wait until the live projections have applied every record on their topics; their positions."""
    ends = await topic_ends(settings)
    applied: dict[tuple[str, int], int] = {}
    for _ in range(300):
        rows = await owner.fetch("select topic, partition, next_offset from consumer_offsets")
        applied = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        if applied == ends:
            return applied
        await asyncio.sleep(0.1)
    raise AssertionError(f"the live projections never caught up: {applied} of {ends}")


async def table(conn: asyncpg.Connection, schema: str, name: str) -> list[dict[str, Any]]:
    """Every row of a table in its key's order, but the columns a run legitimately changes."""
    skip = RUN_DEPENDENT.get(name, set())
    rows = await conn.fetch(f"select * from {schema}.{name} order by {TABLES[name]}")
    return [{k: v for k, v in r.items() if k not in skip} for r in rows]


async def shape(conn: asyncpg.Connection) -> dict[str, Any]:
    """The read models' columns, indexes and the service role's grants, as the migrations left them."""
    names = list(TABLES)
    columns = await conn.fetch(
        "select table_name, ordinal_position, column_name, data_type, is_nullable, column_default"
        " from information_schema.columns where table_schema = 'public' and table_name = any($1)"
        " order by 1, 2",
        names,
    )
    indexes = await conn.fetch(
        "select tablename, indexname, indexdef from pg_indexes"
        " where schemaname = 'public' and tablename = any($1) order by 1, 2",
        names,
    )
    grants = await conn.fetch(
        "select table_name, grantee, privilege_type from information_schema.role_table_grants"
        " where table_schema = 'public' and table_name = any($1) order by 1, 2, 3",
        names,
    )
    return {
        "columns": [tuple(r) for r in columns],
        "indexes": [tuple(r) for r in indexes],
        "grants": [tuple(r) for r in grants],
    }


async def test_a_replay_of_every_model_rebuilds_each_table_row_for_row_while_the_diary_answers(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    owner: asyncpg.Connection,
) -> None:
    booking, projections = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        kept = await book(client, STATION, DAY, "17:00")
        moved = await book(client, STATION, DAY, "18:00")
        cancelled = await book(client, OTHER_STATION, DAY, "19:00")
        answer = await client.post(
            f"/appointments/{moved}/reschedule",
            json={"day": NEXT_DAY, "start": "19:00", "initiated_by": "police", "reason": "room-unavailable"},
        )
        assert answer.status_code == 200, answer.text
        answer = await client.post(
            f"/appointments/{cancelled}/cancel", json={"initiated_by": "public", "reason": "no-longer-needed"}
        )
        assert answer.status_code == 200, answer.text
    past = str(uuid.uuid4())
    old_move, poison = await publish_past(test_settings, past)
    await until_in_diary(projections, STATION, NEXT_DAY, {moved: "rescheduled", past: "rescheduled"})
    await until_in_diary(projections, OTHER_STATION, DAY, {cancelled: "cancelled"})
    await caught_up(owner, test_settings)
    before = await shape(owner)

    answered: list[Progress] = []
    during: list[str] = []

    async def meanwhile(p: Progress) -> None:
        if p.phase != "rebuilding" or p.done == 0 or p.done >= p.total:
            return
        # The live diary answers, from the live tables, while the rebuild writes its own.
        assert (await diary(projections, STATION, DAY))[kept] == "booked"
        answered.append(p)
        if not during:
            # Booked while the replay runs: the live consumer applies it, the rebuild follows it.
            async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
                during.append(await book(client, STATION, DAY, "19:00"))
            await until_in_diary(projections, STATION, DAY, {during[0]: "booked"})

    # Small transactions, so the rebuild takes a while and reports between them.
    replay = Replay(
        test_settings, models_named([]), batch_records=5, keep_replaced=True, on_progress=meanwhile
    )
    report = await replay.run()

    assert answered, "the replay never reported progress mid-way"
    assert len({p.done for p in answered}) > 1
    assert (
        report.models == ["history", "diary", "kpis", "texts", "availability", "waitlist"]
        and report.outcomes["applied"] > 0
    )
    # This test's poison record at least (in a full run the topics hold other tests' too), refused
    # as the live consumer did: the tables compared row for row below hold none of them.
    assert report.outcomes["deadlettered"] >= 1
    assert report.positions_swapped == [
        "projections-booking",
        "projections-roster",
        "projections-notifications",
    ]
    # Every table, as the live consumers left it at the swap, against its rebuilt copy.
    await rebuilt_as_replaced(owner)
    # The rebuilt diary holds what was done, the appointment booked during the replay included.
    rebuilt_diary = {r["appointment_id"]: r for r in await table(owner, "public", "diary")}
    assert rebuilt_diary[kept]["status"] == "booked"
    assert (rebuilt_diary[moved]["status"], str(rebuilt_diary[moved]["local_day"])) == (
        "rescheduled",
        NEXT_DAY,
    )
    assert rebuilt_diary[cancelled]["status"] == "cancelled"
    assert rebuilt_diary[during[0]]["status"] == "booked"
    # The version-1 move was read through its upcaster, live and by the replay; the history keeps it as sent.
    assert (rebuilt_diary[past]["status"], rebuilt_diary[past]["starts_at"]) == (
        "rescheduled",
        slot(date.fromisoformat(NEXT_DAY), 17),
    )
    versions = "select event_id::text, schema_version from event_history where event_id = any($1::uuid[])"
    assert dict(await owner.fetch(versions, [old_move, poison])) == {old_move: 1}
    # The positions the live consumers go on from are those of the swapped-in tables: all of Kafka.
    positions = {(topic, partition): offset for (_, topic, partition), offset in report.positions.items()}
    assert positions == await topic_ends(test_settings)
    # The same columns, the same index names and definitions, the service's role the same rights.
    assert await shape(owner) == before
    # The live service goes on, on the rebuilt tables: its role writes them, its views read them.
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        after = await book(client, OTHER_STATION, DAY, "17:00")
        # A change to a row the rebuild wrote: the live apply's prepared reads and upserts of the
        # diary find the new table under the old name.
        answer = await client.post(
            f"/appointments/{kept}/cancel", json={"initiated_by": "public", "reason": "no-longer-needed"}
        )
        assert answer.status_code == 200, answer.text
    await until_in_diary(projections, OTHER_STATION, DAY, {after: "booked", cancelled: "cancelled"})
    await until_in_diary(projections, STATION, DAY, {kept: "cancelled"})
    assert await owner.fetchval("select count(*) from public.diary where appointment_id = $1", after) == 1
    assert (
        await owner.fetchval(f"select count(*) from {REPLACED}.diary where appointment_id = $1", after) == 0
    )


async def rebuilt_as_replaced(owner: asyncpg.Connection) -> None:
    """Every table, as the live consumers left it at the swap, equals its rebuilt copy row by row."""
    for name in TABLES:
        live, rebuilt = await table(owner, REPLACED, name), await table(owner, "public", name)
        assert rebuilt == live, name
        assert live, name


async def test_a_replay_shared_by_worker_processes_rebuilds_each_table_row_for_row(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    owner: asyncpg.Connection,
) -> None:
    booking, projections = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        late = await book(client, OTHER_STATION, NEXT_DAY, "19:00")
    await until_in_diary(projections, OTHER_STATION, NEXT_DAY, {late: "booked"})
    await caught_up(owner, test_settings)
    # What a big backlog does: two forked processes, each on its own partitions, then this one.
    replay = Replay(
        test_settings, models_named([]), batch_records=7, workers=2, workers_from=1, keep_replaced=True
    )
    report = await replay.run()
    assert report.outcomes["applied"] > 0 and report.outcomes["deadlettered"] >= 1  # as above
    assert report.unapplied == 0  # the live consumers had applied everything: so has the rebuild
    await rebuilt_as_replaced(owner)
    positions = {(topic, partition): offset for (_, topic, partition), offset in report.positions.items()}
    assert positions == await topic_ends(test_settings)
    assert (await diary(projections, OTHER_STATION, NEXT_DAY))[late] == "booked"


def appointments(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APPOINTMENTS), *args], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "250"}, timeout=300, check=False,
    )  # fmt: skip


async def identity(conn: asyncpg.Connection, name: str) -> int:
    oid: int = await conn.fetchval("select $1::regclass::oid", f"public.{name}")
    return oid


async def test_a_replay_of_one_model_leaves_the_others_tables_as_they_were(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    owner: asyncpg.Connection,
) -> None:
    booking, projections = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        first = await book(client, OTHER_STATION, NEXT_DAY, "18:00")
    await until_in_diary(projections, OTHER_STATION, NEXT_DAY, {first: "booked"})
    await caught_up(owner, test_settings)
    history_before = await owner.fetch("select * from event_history order by event_id")  # received_at too
    diary_before = {n: await table(owner, "public", n) for n in ("diary", "diary_days")}
    positions_before = {n: await table(owner, "public", n) for n in ("consumer_offsets", "applied_events")}
    tables_before = {n: await identity(owner, n) for n in TABLES}

    done = appointments("replay", "diary")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Rebuilt diary (diary, diary_days)" in done.stdout
    assert "events/s" in done.stdout

    # The diary's tables are new ones holding the same rows; the history's is the very same table.
    assert {n: await identity(owner, n) for n in ("diary", "diary_days")} != {
        n: tables_before[n] for n in ("diary", "diary_days")
    }
    assert {n: await table(owner, "public", n) for n in ("diary", "diary_days")} == diary_before
    assert await identity(owner, "event_history") == tables_before["event_history"]
    assert await owner.fetch("select * from event_history order by event_id") == history_before
    # The booking consumer also feeds the history: its positions stay the live ones (equal anyway).
    assert {
        n: await table(owner, "public", n) for n in ("consumer_offsets", "applied_events")
    } == positions_before
    assert await identity(owner, "consumer_offsets") == tables_before["consumer_offsets"]
    assert (await diary(projections, OTHER_STATION, NEXT_DAY))[first] == "booked"
