"""What the chaos run checks once the faults are over and the system is quiet again.

Every acknowledged booking is in the store, exactly once on ``booking.events`` (read
committed) and exactly once in the diary; no room or officer is held twice at once; every
control-room request got exactly one answer; the read models equal a replay from the topics.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from chaos.load import Answers
from schemas.topics import BOOKING_EVENTS
from services.common.config import PROJECT_ROOT, Settings

QUIET_SECONDS = 180.0
BOOKED = ("SlotBooked", "DiaryCarVisitBooked")
ANSWERS = (*BOOKED, "RequestRefused")
# The read models a replay rebuilds and the run compares, each in its key's order.
COMPARED = {
    "event_history": "event_id",
    "diary": "appointment_id",
    "diary_days": "place, place_id, local_day, appointment_id",
    "kpi_appointments": "appointment_id",
}
# When the projections received an event: the replay received them all at once.
RUN_DEPENDENT = {"event_history": {"received_at"}}


@dataclass(frozen=True)
class Check:
    """One comparison: what it holds, what was expected, what was found."""

    name: str
    expected: int
    found: int
    detail: str = ""

    @property
    def passed(self) -> bool:
        """Whether the found count is the expected one."""
        return self.expected == self.found


@dataclass(frozen=True)
class Record:
    """A booking.events record as the checks need it."""

    event_id: str
    event_type: str
    key: str
    data: dict[str, Any]


async def read_committed(bootstrap: str, topic: str) -> list[Record]:
    """Every committed record of ``topic`` from its start to its end now (read_committed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Record] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=2000)
            for tp, rows in batch.items():
                for r in rows:
                    headers = {k: bytes(v).decode() for k, v in r.headers or ()}
                    records.append(
                        Record(headers.get("ce_id", ""), headers.get("ce_type", ""), (r.key or b"").decode(),
                               json.loads(r.value or b"{}"))
                    )  # fmt: skip
                    if r.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
            if not batch:
                positions = {tp: await consumer.position(tp) for tp in remaining}
                remaining = {tp for tp in remaining if positions[tp] < ends[tp]}
        return records
    finally:
        await consumer.stop()


async def until_quiet(settings: Settings, acknowledged: Iterable[str]) -> None:
    """Wait until booking's outbox is empty and every acknowledged appointment is in the diary."""
    wanted = sorted(set(acknowledged))
    deadline = time.monotonic() + QUIET_SECONDS
    booking = await asyncpg.connect(settings.database_url("booking"))
    projections = await asyncpg.connect(settings.database_url("projections"))
    try:
        while True:
            pending = await booking.fetchval("select count(*) from outbox where published_at is null")
            shown = await projections.fetchval(
                "select count(*) from diary where appointment_id = any($1::text[])", wanted
            )
            if pending == 0 and shown == len(wanted):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"not quiet: {pending} outbox rows unpublished, {shown}/{len(wanted)} in the diary"
                )
            await asyncio.sleep(0.5)
    finally:
        await booking.close()
        await projections.close()


def _exactly_once(name: str, wanted: Iterable[str], counts: Mapping[str, int]) -> Check:
    wanted = list(wanted)
    once = sum(1 for w in wanted if counts.get(w, 0) == 1)
    wrong = [f"{w}: {counts.get(w, 0)}" for w in wanted if counts.get(w, 0) != 1][:5]
    return Check(name, len(wanted), once, "; ".join(wrong))


async def overlaps(conn: asyncpg.Connection, column: str) -> int:
    """Pairs of live appointments in the diary holding one room (or officer) at overlapping times."""
    found: int = await conn.fetchval(
        f"select count(*) from diary a join diary b on a.{column} = b.{column}"
        " and a.appointment_id < b.appointment_id"
        " and tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)"
        " and (a.place_id = b.place_id or $1 = 'officer_id')"
        " where a.status = 'booked' and b.status = 'booked'",
        column,
    )
    return found


async def snapshot(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """The compared read models' rows, in key order, without the columns a run legitimately changes."""
    conn = await asyncpg.connect(settings.database_url("projections"))
    try:
        tables: dict[str, list[dict[str, Any]]] = {}
        for name, order in COMPARED.items():
            skip = RUN_DEPENDENT.get(name, set())
            rows = await conn.fetch(f"select * from {name} order by {order}")
            tables[name] = [{k: v for k, v in r.items() if k not in skip} for r in rows]
        return tables
    finally:
        await conn.close()


def replay(env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`appointments replay` of every model, against the run's servers."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("appointments")), "replay"], cwd=PROJECT_ROOT, env=dict(env),
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


async def check_all(settings: Settings, answers: Answers, service_env: Mapping[str, str]) -> list[Check]:
    """Every check of the run, once the system is quiet."""
    acked = list(answers.acknowledged.values())
    await until_quiet(settings, acked)
    checks: list[Check] = []

    booking = await asyncpg.connect(settings.database_url("booking"))
    try:
        rows = await booking.fetch(
            "select data ->> 'appointment_id' as a, count(*) as n from events"
            " where event_type = any($1::text[]) group by 1",
            list(BOOKED),
        )
    finally:
        await booking.close()
    checks.append(
        _exactly_once("acknowledged bookings in the store, once", acked, {r["a"]: r["n"] for r in rows})
    )

    records = await read_committed(settings.kafka_bootstrap, settings.topic(BOOKING_EVENTS))
    booked = Counter(str(r.data.get("appointment_id")) for r in records if r.event_type in BOOKED)
    checks.append(
        _exactly_once("acknowledged bookings on booking.events (read_committed), once", acked, booked)
    )
    ids = Counter(r.event_id for r in records)
    checks.append(Check("events on booking.events twice", 0, sum(1 for n in ids.values() if n > 1)))
    answered = Counter(str(r.data.get("request_id")) for r in records if r.event_type in ANSWERS)
    checks.append(_exactly_once("control-room requests answered, once", answers.requests_sent, answered))

    projections = await asyncpg.connect(settings.database_url("projections"))
    try:
        diary = await projections.fetch(
            "select appointment_id, count(*) as n from diary"
            " where appointment_id = any($1::text[]) group by 1",
            acked,
        )
        checks.append(
            _exactly_once(
                "acknowledged bookings in the diary, once",
                acked,
                {r["appointment_id"]: r["n"] for r in diary},
            )
        )
        cancelled = await projections.fetchval(
            "select count(*) from diary where appointment_id = any($1::text[]) and status = 'cancelled'",
            answers.cancelled,
        )
        checks.append(Check("acknowledged cancellations shown cancelled", len(answers.cancelled), cancelled))
        checks.append(Check("rooms held twice at once", 0, await overlaps(projections, "room_id")))
        checks.append(Check("officers booked twice at once", 0, await overlaps(projections, "officer_id")))
    finally:
        await projections.close()

    before = await snapshot(settings)
    done = await asyncio.to_thread(replay, service_env)
    after = await snapshot(settings)
    differing = [name for name in COMPARED if before[name] != after[name]]
    rows = sum(len(t) for t in before.values())
    detail = f"replay exit {done.returncode}" + (f"; differ: {', '.join(differing)}" if differing else "")
    if done.returncode != 0:
        detail += f": {done.stderr[-500:]}"
    same = rows if done.returncode == 0 and not differing else 0
    checks.append(Check("read-model rows equal to a replay from the topics", rows, same, detail))
    return checks
