"""The projections apply a Kafka fetch per transaction: the same read models as one by one, crash or not."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentCancelled,
    AppointmentOffered,
    AppointmentReassigned,
    AppointmentRescheduled,
    Briefing,
    CallerDetails,
    DiaryCarVisitBooked,
    OfferLapsed,
    Slot,
    SlotBooked,
)
from schemas.envelope import Envelope
from schemas.personal import Sealed
from services.common.config import Settings
from services.common.consumer import IdempotentConsumer, Position
from services.common.db import migrate
from services.projections.adapters import backfill, batch, store
from services.projections.main import MIGRATIONS
from tests.integration.test_idempotent_consumer import (
    consume_all,
    no_deadletters,
    private_topic,
    publish_all,
)

pytestmark = pytest.mark.integration
MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]
TOPIC = "booking.events"
SEALED = Sealed(subject_id="subject-1", nonce="bm9uY2U=", ciphertext="Y2lwaGVy")
BRIEFING = Briefing(
    case_reference="41/1/26", summary=SEALED, thrive_risk="low", safe_to_text=True, safe_to_call=True
)
CALLER = CallerDetails(subject_id="subject-1", name=SEALED)
D2, D3 = date(2027, 6, 2), date(2027, 6, 3)


def slot(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def clock(minute: int) -> datetime:
    """When something was decided: minutes after 10am on 31 May 2027."""
    return datetime(2027, 5, 31, 10, tzinfo=UTC) + timedelta(minutes=minute)


def booked(appointment_id: str, station: str, day: date, hour: int) -> SlotBooked:
    return SlotBooked(
        appointment_id=appointment_id, diary=f"station:{station}:{day}", station_id=station,
        district_id=station, room_id=f"{station}-room-1", officer_id="o-1", starts_at=slot(day, hour),
        ends_at=slot(day, hour + 1), caller=CALLER, briefing=BRIEFING, booked_at=clock(0),
    )  # fmt: skip


def moved(appointment_id: str, day: date, hour: int) -> AppointmentRescheduled:
    return AppointmentRescheduled(
        appointment_id=appointment_id, diary=f"station:stevenage:{day}", from_diary=f"station:stevenage:{D2}",
        from_starts_at=slot(D2, 17), from_ends_at=slot(D2, 18), starts_at=slot(day, hour),
        ends_at=slot(day, hour + 1), room_id="stevenage-room-1", officer_id="o-1", initiated_by="police",
        reason="officer-withdrawn", caller_to_be_told=True, rescheduled_at=clock(0),
    )  # fmt: skip


def history() -> list[tuple[int, DomainEvent]]:
    """A county's morning: (minute decided, event). "a" moves a day; "b" is at another station;
    "f" is a window of the diary car that visits "d", held for a caller waiting."""
    return [
        (0, booked("a", "stevenage", D2, 17)),
        (1, booked("b", "hitchin", D2, 17)),
        (2, booked("c", "stevenage", D3, 19)),
        (3, DiaryCarVisitBooked(
            appointment_id="d", diary=f"diary-car:dacorum:{D2}", district_id="dacorum",
            diary_car_id="dacorum-diary-car", officer_id="o-9", window_starts_at=slot(D2, 10),
            window_ends_at=slot(D2, 12), caller=CALLER, briefing=BRIEFING, booked_at=clock(3),
        )),
        (4, AppointmentReassigned(
            appointment_id="a", diary=f"station:stevenage:{D2}", from_officer_id="o-1", to_officer_id="o-2",
            starts_at=slot(D2, 17), ends_at=slot(D2, 18), reason="officer-withdrawn",
            reassigned_at=clock(4),
        )),
        (5, AppointmentOffered(
            appointment_id="e", diary=f"station:stevenage:{D2}", officer_id="o-3", expires_at=clock(65),
            slot=Slot(place="station", place_id="stevenage", starts_at=slot(D2, 19), ends_at=slot(D2, 20),
                      room_id="stevenage-room-1"),
            offered_at=clock(5),
        )),
        (6, moved("a", D3, 18)),
        (7, AppointmentCancelled(
            appointment_id="c", diary=f"station:stevenage:{D3}", starts_at=slot(D3, 19),
            initiated_by="public", reason="no-longer-needed", cancelled_at=clock(7),
        )),
        (8, OfferLapsed(
            appointment_id="e", diary=f"station:stevenage:{D2}", starts_at=slot(D2, 19), lapsed_at=clock(8)
        )),
        (9, AppointmentOffered(
            appointment_id="f", diary=f"diary-car:dacorum:{D2}", officer_id="o-9", expires_at=clock(69),
            slot=Slot(place="diary-car", place_id="dacorum", starts_at=slot(D2, 12), ends_at=slot(D2, 14)),
            offered_at=clock(9),
        )),
    ]  # fmt: skip


def envelopes() -> list[Envelope]:
    return [
        Envelope(
            event_id=uuid.uuid4(), event_type=event.event_type, schema_version=event.schema_version,
            source="urn:herts-police:station-appointments:booking", subject=getattr(event, "diary", ""),
            time=clock(minute), correlation_id=str(uuid.uuid4()), actor="call-taker:ct-1",
            data=event.model_dump(mode="json"),
        )
        for minute, event in history()
    ]  # fmt: skip


@dataclass
class Rec:
    """A record as Kafka hands it over."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


def records(envs: Sequence[Envelope]) -> list[Rec]:
    return [
        Rec(TOPIC, 0, offset, env.data["appointment_id"].encode(), env.kafka_value(), env.kafka_headers())
        for offset, env in enumerate(envs)
    ]


async def projections_db(make: MakeDb, name: str) -> asyncpg.Pool:
    pool = await make(name)
    await migrate(pool, [MIGRATIONS])
    return pool


async def read_models(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    """Everything the projections hold but the time each event was received."""
    async with pool.acquire() as conn:
        return {
            "diary": [dict(r) for r in await conn.fetch("select * from diary order by appointment_id")],
            "history": [
                {k: v for k, v in r.items() if k != "received_at"}
                for r in await conn.fetch("select * from event_history order by occurred_at, event_id")
            ],
            "days": [dict(r) for r in await conn.fetch("select * from diary_days order by 1, 2, 3, 4")],
        }


@pytest.fixture
async def own_topic(test_settings: Settings) -> AsyncIterator[str]:
    """A topic of this test only, standing for booking.events."""
    async with private_topic(test_settings) as name:
        yield name


def booking_consumer(name: str, pool: asyncpg.Pool) -> IdempotentConsumer:
    return IdempotentConsumer(
        name, pool, store.apply_booking_event, no_deadletters, batch.apply_booking_events
    )


async def test_a_batch_leaves_the_same_read_models_as_the_records_one_by_one(fresh_database: MakeDb) -> None:
    one_by_one, batched = (
        await projections_db(fresh_database, "proj_single"),
        await projections_db(fresh_database, "proj_batch"),
    )
    envs = envelopes()
    # The relay republished the move: same event id, a later offset.
    recs = records([*envs, envs[6]])
    for rec in recs:
        await booking_consumer("projections-booking", one_by_one).handle(rec)
    outcomes = await booking_consumer("projections-booking", batched).handle_batch(recs)
    assert outcomes == ["applied"] * len(envs) + ["duplicate"]
    models = await read_models(batched)
    assert models == await read_models(one_by_one)
    diary = {row["appointment_id"]: row for row in models["diary"]}
    assert (diary["a"]["local_day"], diary["a"]["status"], diary["a"]["officer_id"]) == (
        D3,
        "rescheduled",
        "o-1",
    )
    assert diary["a"]["last_event_id"] == envs[6].event_id
    assert (diary["c"]["status"], diary["e"]["status"]) == ("cancelled", "lapsed")
    # A diary car's visit and a window held on it are on the same day: the district's.
    assert [(diary[a]["place_id"], diary[a]["diary_car_id"], diary[a]["status"]) for a in "df"] == [
        ("dacorum", "dacorum-diary-car", "booked"), ("dacorum", None, "offered"),
    ]  # fmt: skip
    days = {(r["place_id"], r["local_day"], r["appointment_id"]): r["since"] for r in models["days"]}
    assert days[("stevenage", D2, "a")] == clock(0) and days[("stevenage", D3, "a")] == clock(6)
    assert days[("dacorum", D2, "d")] == clock(3) and days[("dacorum", D2, "f")] == clock(9)
    assert ("stevenage", D2, "b") not in days and len(models["history"]) == len(envs)


class DiesOnce:
    """The projections' batch apply, but the first time the server ends the session after it."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, conn: asyncpg.Connection, batch_: Sequence[tuple[Envelope, Position]]) -> None:
        self.calls += 1
        await batch.apply_booking_events(conn, batch_)
        if self.calls == 1:
            await conn.execute("select pg_terminate_backend(pg_backend_pid())")


async def test_a_crash_mid_batch_then_redelivery_leaves_what_a_clean_run_leaves(
    fresh_database: MakeDb, test_settings: Settings, own_topic: str
) -> None:
    envs = envelopes()
    sent = [(env.data["appointment_id"].encode(), env.kafka_value(), env.kafka_headers()) for env in envs]
    await publish_all(test_settings, own_topic, [*sent, sent[6]])
    clean_db, crash_db = (
        await projections_db(fresh_database, "proj_clean"),
        await projections_db(fresh_database, "proj_crash"),
    )
    tag = uuid.uuid4().hex[:6]
    dies = DiesOnce()
    dying = IdempotentConsumer(f"crash-{tag}", crash_db, store.apply_booking_event, no_deadletters, dies)
    clean = booking_consumer(f"clean-{tag}", clean_db)
    await consume_all(clean_db, test_settings, own_topic, clean, len(sent) + 1)
    await consume_all(crash_db, test_settings, own_topic, dying, len(sent) + 1)
    assert dies.calls >= 2  # the first batch died with its session and came again from Kafka
    assert await read_models(crash_db) == await read_models(clean_db)


async def migrated_up_to(fresh_database: MakeDb, tmp_path: Path, *names: str) -> asyncpg.Pool:
    """A projections database as an older release left it: only these migrations applied."""
    older = await fresh_database("proj_older")
    folder = tmp_path / "projections" / "migrations"
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(MIGRATIONS / name, folder)
    await migrate(older, [folder])
    return older


def later_than(name: str) -> list[str]:
    """The projections' migrations after ``name`` (read models added since), as migrate names them."""
    return [f"projections/migrations/{f.name}" for f in sorted(MIGRATIONS.glob("*.sql")) if f.name > name]


async def test_the_diary_days_of_history_recorded_before_the_index_are_indexed_once_at_start(
    fresh_database: MakeDb, tmp_path: Path
) -> None:
    live = await projections_db(fresh_database, "proj_live")
    envs = envelopes()
    await booking_consumer("projections-booking", live).handle_batch(records(envs))
    # An older database: the first migration only, its history recorded before diary_days existed.
    older = await migrated_up_to(fresh_database, tmp_path, "001_read_models.sql")
    async with older.acquire() as conn:
        await batch.record_events(conn, [(env, Position(TOPIC, 0, n)) for n, env in enumerate(envs)])
    assert await migrate(older, [MIGRATIONS]) == [
        "projections/migrations/002_diary_days.sql", "projections/migrations/003_diary_car_days.sql",
        "projections/migrations/004_cheaper_writes.sql", "projections/migrations/005_county_events.sql",
        *later_than("005_county_events.sql"),
    ]  # fmt: skip
    async with older.acquire() as conn:
        assert await backfill.index_recorded_days(conn) == len(envs)
        assert await backfill.index_recorded_days(conn) == 0  # once only
    assert (await read_models(older))["days"] == (await read_models(live))["days"]


async def test_a_diary_written_when_a_visit_was_kept_under_its_diary_cars_id_moves_to_its_district(
    fresh_database: MakeDb, tmp_path: Path
) -> None:
    live = await projections_db(fresh_database, "proj_live")
    envs = envelopes()
    await booking_consumer("projections-booking", live).handle_batch(records(envs))
    # A database at the second migration, as the projections then wrote it: a diary car's
    # visit under the car's own id, a window held on it under its district.
    older = await migrated_up_to(fresh_database, tmp_path, "001_read_models.sql", "002_diary_days.sql")
    async with older.acquire() as conn:
        await batch.record_events(conn, [(env, Position(TOPIC, 0, n)) for n, env in enumerate(envs)])
        for row in (await read_models(live))["diary"]:
            old = {k: v for k, v in row.items() if k not in ("diary_stream", "diary_car_id")}
            old["diary"] = row["diary_stream"]
            if row["diary_car_id"]:
                old["place_id"] = row["diary_car_id"]
            if row["status"] == "offered":
                old["district_id"] = None
            await batch.insert_rows(conn, "diary", [old], "")
        for day in (await read_models(live))["days"]:
            car = day["appointment_id"] == "d"
            await batch.insert_rows(
                conn, "diary_days", [{**day, "place_id": "dacorum-diary-car"} if car else day], ""
            )
    assert await migrate(older, [MIGRATIONS]) == [
        "projections/migrations/003_diary_car_days.sql", "projections/migrations/004_cheaper_writes.sql",
        "projections/migrations/005_county_events.sql", *later_than("005_county_events.sql"),
    ]  # fmt: skip
    async with older.acquire() as conn:
        assert await backfill.index_recorded_days(conn) == len(envs)
    assert await read_models(older) == await read_models(live)
