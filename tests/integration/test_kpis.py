"""The KPIs of a scripted fortnight on the real Kafka and PostgreSQL, as JSON and CSV; a replay equals live.

A district of its own ("kpi-testshire", added to the county by a version of its own and going
live on Wednesday 15 March 2028, in the middle of the fortnight) and two Dacorum appointments,
on days no other test uses (6 to 20 March 2028, GMT: London's clock is UTC). Every event goes
on the test run's booking.events and notifications.events as booking and notifications publish
them; the projections service counts them. The county's real version is published again at the
end, so whatever follows the county (the roster) ends where it was; the test district keeps its
go-live date and its places in the KPIs (a district a later version leaves out keeps its last).

Use of capacity: the district's one station (two rooms, hours 17:00 to 20:00 Sunday to Thursday,
19:00 to 22:00 Friday and Saturday) and diary car (two-hour windows from 08:00, a visit each),
with officers of the run's own put on duty on ``roster.events`` as the roster publishes them.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentMissed,
    AppointmentReassigned,
    AppointmentRescheduled,
    DiaryCarVisitBooked,
    Initiator,
    SlotBooked,
)
from schemas.envelope import source_of
from schemas.notifications import SatisfactionRecorded
from schemas.reference import CountyReferenceLoaded
from services.common import kafka
from services.common.auth import Role
from services.common.config import Settings
from services.common.consumer import Position
from services.common.db import migrate
from services.common.reference import load_county
from services.common.staging import outgoing
from services.common.unit_of_work import Metadata
from services.projections.adapters import batch
from services.projections.adapters import kpis as kpi_store
from services.projections.adapters.models import FEEDS, models_named
from services.projections.adapters.replay import REPLACED, Replay
from services.projections.domain.kpis import COLUMNS
from services.projections.main import MIGRATIONS
from tests.integration.test_projection_batches import migrated_up_to
from tests.integration.test_replay import caught_up
from tests.support import roster
from tests.support.services import ServiceProcess, auth
from tests.unit.projections.test_kpis import BRIEFING, CALLER

pytestmark = pytest.mark.integration
DISTRICT, STATION = "kpi-testshire", "kpi-testshire-central"
GO_LIVE = date(2028, 3, 15)
FIRST, LAST = date(2028, 3, 6), date(2028, 3, 19)
KPI_TABLES = {
    "kpi_appointments": "appointment_id",
    "kpi_scores": "appointment_id",
    "kpi_districts": "district_id",
}


def at(day: int, hour: int) -> datetime:
    """``hour`` o'clock on ``day`` March 2028 (GMT: London's clock is UTC)."""
    return datetime(2028, 3, day, hour, tzinfo=UTC)


class Script:
    """The fortnight's events, in the order they are published, with ids of their own."""

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.booking: list[tuple[DomainEvent, str]] = []  # (event, its stream)
        self.notifications: list[DomainEvent] = []

    def id(self, name: str) -> str:
        return f"kpi-{self.run}-{name}"

    def station(self, name: str, day: int, hour: int, days_ahead: int, district: str = DISTRICT) -> str:
        a = self.id(name)
        station = STATION if district == DISTRICT else "hemel-hempstead"
        diary = f"station:{station}:{at(day, hour).date()}"
        self.booking.append((SlotBooked(
            appointment_id=a, diary=diary, station_id=station, district_id=district,
            room_id=f"{station}-room-1", officer_id="kpi-o-1", starts_at=at(day, hour),
            ends_at=at(day, hour + 1), caller=CALLER, briefing=BRIEFING,
            booked_at=at(day, hour) - timedelta(days=days_ahead),
        ), diary))  # fmt: skip
        return a

    def visit(self, name: str, day: int, hour: int, days_ahead: int) -> str:
        a = self.id(name)
        diary = f"diary-car:{DISTRICT}:{at(day, hour).date()}"
        self.booking.append((DiaryCarVisitBooked(
            appointment_id=a, diary=diary, district_id=DISTRICT, diary_car_id=f"{DISTRICT}-diary-car",
            officer_id="kpi-o-9", window_starts_at=at(day, hour), window_ends_at=at(day, hour + 2),
            caller=CALLER, briefing=BRIEFING, booked_at=at(day, hour) - timedelta(days=days_ahead),
        ), diary))  # fmt: skip
        return a

    def attended(self, a: str, start: datetime) -> None:
        self.booking.append((AppointmentAttended(
            appointment_id=a, diary="-", officer_id="kpi-o-1", starts_at=start, outcome="advice-given",
            recorded_at=start + timedelta(minutes=45),
        ), "-"))  # fmt: skip

    def cancelled(self, a: str, start: datetime, by: Initiator) -> None:
        self.booking.append((AppointmentCancelled(
            appointment_id=a, diary="-", starts_at=start, initiated_by=by,
            reason="no-longer-needed" if by == "public" else "officer-withdrawn",
            cancelled_at=start - timedelta(hours=6),
        ), "-"))  # fmt: skip

    def missed(self, a: str, start: datetime, by: Initiator) -> None:
        self.booking.append((AppointmentMissed(
            appointment_id=a, diary="-", starts_at=start, missed_by=by,
            reason="did-not-attend" if by == "public" else "officer-called-away",
            recorded_at=start + timedelta(minutes=20),
        ), "-"))  # fmt: skip

    def rescheduled(self, a: str, start: datetime, to: datetime, by: Initiator) -> None:
        self.booking.append((AppointmentRescheduled(
            appointment_id=a, diary="-", from_diary="-", from_starts_at=start,
            from_ends_at=start + timedelta(hours=1), starts_at=to, ends_at=to + timedelta(hours=1),
            room_id=f"{STATION}-room-1", officer_id="kpi-o-1", initiated_by=by,
            reason="officer-unavailable" if by == "police" else "caller-asked",
            caller_to_be_told=by == "police", rescheduled_at=start - timedelta(days=1),
        ), "-"))  # fmt: skip

    def reassigned(self, a: str, start: datetime) -> None:
        self.booking.append((AppointmentReassigned(
            appointment_id=a, diary="-", from_officer_id="kpi-o-9", to_officer_id="kpi-o-8",
            starts_at=start, ends_at=start + timedelta(hours=2), reason="officer-withdrawn",
            reassigned_at=start - timedelta(hours=2),
        ), "-"))  # fmt: skip

    def scored(self, a: str, score: int, recorded_at: datetime) -> None:
        self.notifications.append(
            SatisfactionRecorded(
                message_id=str(uuid.uuid4()), appointment_id=a, score=score, recorded_at=recorded_at
            )
        )


def fortnight() -> Script:
    """The scripted fortnight: each appointment's story, and what each category should count."""
    s = Script()
    # Week 1, Monday 6 to Sunday 12 March (before go-live).
    t1 = s.station("t1", 6, 17, days_ahead=3)
    s.attended(t1, at(6, 17))  # held
    s.scored(t1, 2, at(7, 10))
    t2 = s.station("t2", 7, 17, days_ahead=1)
    s.cancelled(t2, at(7, 17), "public")
    t3 = s.station("t3", 8, 18, days_ahead=2)
    s.cancelled(t3, at(8, 18), "police")
    t4 = s.station("t4", 9, 17, days_ahead=4)
    s.rescheduled(t4, at(9, 17), at(10, 19), "police")
    s.attended(t4, at(10, 19))  # attended, not at the booked time
    s.scored(t4, 3, at(11, 10))
    t5 = s.station("t5", 11, 19, days_ahead=5)
    s.missed(t5, at(11, 19), "public")
    # Week 2, Monday 13 to Sunday 19 March: Monday and Tuesday before go-live, then after.
    t6 = s.station("t6", 13, 17, days_ahead=6)
    s.missed(t6, at(13, 17), "police")  # an officer's no-show
    t7 = s.station("t7", 14, 17, days_ahead=7)
    s.attended(t7, at(14, 17))  # held
    s.scored(t7, 4, at(15, 9))
    t8 = s.visit("t8", 15, 10, days_ahead=1)
    s.reassigned(t8, at(15, 10))
    s.attended(t8, at(15, 10))  # held: another officer, the same time
    s.scored(t8, 5, at(15, 18))
    t9 = s.station("t9", 16, 17, days_ahead=2)
    s.attended(t9, at(16, 17))  # held
    s.scored(t9, 3, at(16, 19))
    s.scored(t9, 5, at(17, 8))  # a later reply: the latest counts
    t10 = s.station("t10", 17, 19, days_ahead=3)
    s.rescheduled(t10, at(17, 19), at(18, 19), "public")
    s.attended(t10, at(18, 19))
    s.scored(t10, 4, at(19, 9))
    s.station("t11", 19, 17, days_ahead=10)  # still to come
    # Dacorum (live since 2014): one held in week 1; one on the 20th, outside the range.
    d1 = s.station("d1", 8, 17, days_ahead=2, district="dacorum")
    s.attended(d1, at(8, 17))
    s.station("d2", 20, 17, days_ahead=1, district="dacorum")
    # A score for an appointment no booking event named: counted nowhere.
    s.scored(s.id("nobody"), 1, at(9, 9))
    return s


def duties(s: Script) -> list[DomainEvent]:
    """Who the roster puts on duty at the district's station and diary car, and the places they offer."""
    o1, o2, o9 = s.id("o-1"), s.id("o-2"), s.id("o-9")
    saturday = roster.duty(o1, station=STATION, district=DISTRICT, starts_at=at(18, 19), ends_at=at(18, 22))
    return [
        # Monday 6th, before go-live: booking opens no day before it, so nothing is offered.
        roster.duty(o1, station=STATION, district=DISTRICT, starts_at=at(6, 17), ends_at=at(6, 20)),
        # Wednesday 15th: two rooms, o-1 the three slots and o-2 the first two: 2 + 2 + 1.
        roster.duty(o1, station=STATION, district=DISTRICT, starts_at=at(15, 16), ends_at=at(15, 21)),
        roster.duty(o2, station=STATION, district=DISTRICT, starts_at=at(15, 17), ends_at=at(15, 19)),
        # The diary car, 08:00 to 12:00: its two windows, a visit each.
        roster.duty(o9, station=None, district=DISTRICT, starts_at=at(15, 8), ends_at=at(15, 12)),
        # Thursday 16th: o-1 withdrawn for the 18:00 slot: 2.
        roster.duty(o1, station=STATION, district=DISTRICT, starts_at=at(16, 17), ends_at=at(16, 20)),
        roster.withdrawal(o1, at(16, 18), at(16, 19)),
        # Saturday 18th, 19:00 to 22:00, the duty ended early at 20:00: 1.
        saturday,
        roster.duty_ended(saturday, at(18, 20)),
    ]


ZEROS = {
    "booked": 0, "held_at_booked_time": 0, "attended": 0, "reassigned": 0, "rescheduled_by_police": 0,
    "rescheduled_by_public": 0, "cancelled_by_police": 0, "cancelled_by_public": 0, "missed_by_public": 0,
    "officer_no_shows": 0, "satisfaction_responses": 0, "satisfaction_mean": None, "satisfaction_1": 0,
    "satisfaction_2": 0, "satisfaction_3": 0, "satisfaction_4": 0, "satisfaction_5": 0,
    "days_to_appointment_mean": None, "days_to_appointment_median": None,
    "capacity_offered": 0, "capacity_used": 0, "capacity_use": None,
}  # fmt: skip


def expected(row: dict[str, Any], **figures: Any) -> dict[str, Any]:
    return {**row, **ZEROS, **figures}


NAME = {"district_id": DISTRICT, "district_name": "KPI Testshire", "goes_live": "2028-03-15"}
EXPECTED_TESTSHIRE = [
    expected(
        {**NAME, "period": "week", "week": "2028-W10", "from": "2028-03-06", "to": "2028-03-12"},
        booked=5, held_at_booked_time=1, attended=2, rescheduled_by_police=1, cancelled_by_police=1,
        cancelled_by_public=1, missed_by_public=1, satisfaction_responses=2, satisfaction_mean=2.5,
        satisfaction_2=1, satisfaction_3=1, days_to_appointment_mean=3.0, days_to_appointment_median=3.0,
        # Places used by the day they are on now: t1, t4 (moved to the 10th) and t5; nothing offered.
        capacity_used=3,
    ),
    expected(
        {**NAME, "period": "week", "week": "2028-W11", "from": "2028-03-13", "to": "2028-03-19"},
        booked=6, held_at_booked_time=3, attended=4, reassigned=1, rescheduled_by_public=1,
        officer_no_shows=1, satisfaction_responses=4, satisfaction_mean=4.5, satisfaction_4=2,
        satisfaction_5=2, days_to_appointment_mean=4.83, days_to_appointment_median=4.5,
        # 5 + 2 (the car) on the 15th, 2 on the 16th, 1 on the 18th; used: t6 to t11 (t10 on the
        # 18th), t6 and t7 on days before go-live that booking no longer opens, counted all the same.
        capacity_offered=10, capacity_used=6, capacity_use=0.6,
    ),
    expected(
        {**NAME, "period": "before-go-live", "week": None, "from": "2028-03-06", "to": "2028-03-14"},
        booked=7, held_at_booked_time=2, attended=3, rescheduled_by_police=1, cancelled_by_police=1,
        cancelled_by_public=1, missed_by_public=1, officer_no_shows=1, satisfaction_responses=3,
        satisfaction_mean=3.0, satisfaction_2=1, satisfaction_3=1, satisfaction_4=1,
        days_to_appointment_mean=4.0, days_to_appointment_median=4.0,
        capacity_used=5,  # t1, t4, t5, t6, t7: nothing offered before go-live
    ),
    expected(
        {**NAME, "period": "after-go-live", "week": None, "from": "2028-03-15", "to": "2028-03-19"},
        booked=4, held_at_booked_time=2, attended=3, reassigned=1, rescheduled_by_public=1,
        satisfaction_responses=3, satisfaction_mean=4.67, satisfaction_4=1, satisfaction_5=2,
        days_to_appointment_mean=4.0, days_to_appointment_median=2.5,
        capacity_offered=10, capacity_used=4, capacity_use=0.4,  # t8, t9, t10 and t11
    ),
]  # fmt: skip


async def publish(settings: Settings, events: Sequence[tuple[DomainEvent, str]], service: str) -> None:
    """Put events on the run's topics as ``service`` publishes them (envelope, headers, key)."""
    broker = kafka.make_broker(settings.kafka_bootstrap, f"test-kpis-{service}")
    await broker.start()
    try:
        send = kafka.publisher(broker, settings.topic_prefix)
        for event, stream in events:
            meta = Metadata(correlation_id=str(uuid.uuid4()), actor="system:test-kpis", now=datetime.now(UTC))
            out = outgoing(event, stream, source_of(service), meta)
            await send(out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers())
    finally:
        await broker.stop()


@pytest.fixture
async def owner(test_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn: asyncpg.Connection = await asyncpg.connect(test_settings.database_url("projections"))
    yield conn
    await conn.close()


async def county_now(owner: asyncpg.Connection) -> CountyReferenceLoaded:
    """The county's latest version, as the projections received it from booking."""
    row = await owner.fetchrow(
        "select data from event_history where event_type = 'CountyReferenceLoaded'"
        ' order by partition desc, "offset" desc limit 1'
    )
    assert row is not None
    return CountyReferenceLoaded.model_validate(json.loads(row["data"]))


def with_test_district(county: CountyReferenceLoaded) -> CountyReferenceLoaded:
    """The county with one more district, going live mid-fortnight (its diary car like another's),
    and its one station: Stevenage's hours and days, with two rooms of its own."""
    document = copy.deepcopy(county.document)
    (model_station,) = [s for s in document["stations"] if s["id"] == "stevenage"]
    rooms = [{"id": f"{STATION}-room-{n}", "name": f"Room {n}"} for n in (1, 2)]
    document["stations"].append(
        {
            **model_station,
            "id": STATION,
            "name": "KPI Testshire Central",
            "district": DISTRICT,
            "rooms": rooms,
        }
    )
    model = document["districts"][0]
    car = {
        **model["diary_car"],
        "id": f"{DISTRICT}-diary-car",
        "name": "KPI Testshire diary car",
        "district": DISTRICT,
    }
    document["districts"].append(
        {
            **model,
            "id": DISTRICT,
            "name": "KPI Testshire",
            "scheduled_appointments_from": str(GO_LIVE),
            "diary_car": car,
        }
    )
    return county.model_copy(
        update={"document": document, "sha256": "0" * 64, "loaded_at": datetime.now(UTC)}
    )


async def kpis(projections: ServiceProcess, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR)) as client:
        return await client.get("/kpis", params={"from": str(FIRST), "to": str(LAST), **params})


async def until_counted(projections: ServiceProcess) -> dict[str, Any]:
    """The district's KPIs once they are the fortnight's (or as they stand after 30 s)."""
    body: dict[str, Any] = {}
    for _ in range(300):
        response = await kpis(projections, district=DISTRICT)
        if response.status_code == 200:
            body = response.json()
            if body["rows"] == EXPECTED_TESTSHIRE:
                break
        await asyncio.sleep(0.1)
    return body


async def test_the_kpis_of_a_scripted_fortnight_as_json_and_csv_and_a_replay_counts_the_same(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    owner: asyncpg.Connection,
) -> None:
    _, projections = booking_and_projections
    real = await county_now(owner)
    script = fortnight()
    await publish(test_settings, [(with_test_district(real), real.county_id), *script.booking], "booking")
    await publish(test_settings, [(e, "-") for e in script.notifications], "notifications")
    await roster.publish(test_settings, duties(script))
    try:
        body = await until_counted(projections)
    finally:
        await publish(
            test_settings,
            [(real.model_copy(update={"loaded_at": datetime.now(UTC)}), real.county_id)],
            "booking",
        )

    # JSON: the district's two weeks and its before and after, exactly.
    assert (body["from"], body["to"], body["district_id"]) == (str(FIRST), str(LAST), DISTRICT)
    assert body["rows"] == EXPECTED_TESTSHIRE
    # Before and after go-live differ: cancellations fell, satisfaction rose.
    before, after = EXPECTED_TESTSHIRE[2], EXPECTED_TESTSHIRE[3]
    assert before["cancelled_by_police"] + before["cancelled_by_public"] == 2
    assert after["cancelled_by_police"] + after["cancelled_by_public"] == 0
    assert after["satisfaction_mean"] > before["satisfaction_mean"]

    # The county: every district's weeks (Dacorum's held appointment in the first week; its
    # appointment on the 20th outside the range), then the county's weeks.
    whole = (await kpis(projections)).json()["rows"]
    county = [r for r in whole if r["district_id"] == "county"]
    assert [
        (r["week"], r["booked"], r["held_at_booked_time"], r["satisfaction_responses"]) for r in county
    ] == [
        ("2028-W10", 6, 2, 2),
        ("2028-W11", 6, 3, 4),
    ]
    dacorum = [r for r in whole if r["district_id"] == "dacorum"]
    shown = [
        (r["period"], r["booked"], r["held_at_booked_time"], r["days_to_appointment_mean"]) for r in dacorum
    ]
    assert shown == [("week", 1, 1, 2.0), ("week", 0, 0, None), ("after-go-live", 1, 1, 2.0)]
    assert [r for r in whole if r["district_id"] == DISTRICT] == EXPECTED_TESTSHIRE
    # The county's places offered and used are its districts' summed, week by week.
    for row in county:
        weeks = [r for r in whole if r["week"] == row["week"] and r["district_id"] != "county"]
        for figure in ("capacity_offered", "capacity_used"):
            assert row[figure] == sum(r[figure] for r in weeks), (row["week"], figure)

    # CSV, by the query and by Accept: the same rows, the same figures (empty for none).
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        by_accept = await client.get(
            "/kpis", params={"district": DISTRICT, "from": str(FIRST), "to": str(LAST)},
            headers={"Accept": "text/csv"},
        )  # fmt: skip
    by_query = await kpis(projections, district=DISTRICT, format="csv")
    for response in (by_accept, by_query):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert f'filename="kpis-{DISTRICT}-{FIRST}-{LAST}.csv"' in response.headers["content-disposition"]
    assert by_accept.text == by_query.text
    table = list(csv.DictReader(io.StringIO(by_query.text)))
    assert list(table[0]) == list(COLUMNS)  # one column per figure, in the domain's order
    assert table == [{k: "" if v is None else str(v) for k, v in row.items()} for row in EXPECTED_TESTSHIRE]

    # Refusals: another role, a district no county had, a range backwards.
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.CALL_TAKER)) as client:
        assert (await client.get("/kpis")).status_code == 403
    assert (await kpis(projections, district="atlantis")).status_code == 404
    backwards = await kpis(projections, **{"from": str(LAST), "to": str(FIRST)})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "from"

    # A replay of the KPI model alone rebuilds its tables row for row as the live ones stood,
    # and the figures read the same from them.
    await caught_up(owner, test_settings)
    report = await Replay(test_settings, models_named(["kpis"]), batch_records=9, keep_replaced=True).run()
    assert report.models == ["kpis"] and report.outcomes["applied"] > 0
    for name, key in KPI_TABLES.items():
        live = await owner.fetch(f"select * from {REPLACED}.{name} order by {key}")
        rebuilt = await owner.fetch(f"select * from public.{name} order by {key}")
        assert [dict(r) for r in rebuilt] == [dict(r) for r in live], name
        assert live, name
    assert (await kpis(projections, district=DISTRICT)).json()["rows"] == EXPECTED_TESTSHIRE


MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]


def recorded(script: Script) -> tuple[list[tuple[Any, Position]], list[tuple[Any, Position]]]:
    """The fortnight (and the county with the test district) as the consumers hand records over."""
    real = CountyReferenceLoaded(
        county_id="hertfordshire", sha256="0" * 64, loaded_at=at(1, 9),
        document=load_county().model_dump(mode="json"),
    )  # fmt: skip
    county = with_test_district(real).model_copy(update={"loaded_at": at(1, 9)})
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor="system:test-kpis", now=at(1, 9))
    booking = [
        outgoing(e, stream, source_of("booking"), meta).envelope
        for e, stream in [(county, "c"), *script.booking]
    ]
    texts = [outgoing(e, "-", source_of("notifications"), meta).envelope for e in script.notifications]
    return (
        [(env, Position("booking.events", 0, n)) for n, env in enumerate(booking)],
        [(env, Position("notifications.events", 0, n)) for n, env in enumerate(texts)],
    )


async def kpi_tables(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    async with pool.acquire() as conn:
        return {
            name: [dict(r) for r in await conn.fetch(f"select * from {name} order by {key}")]
            for name, key in KPI_TABLES.items()
        }


async def test_a_history_recorded_before_the_kpis_existed_is_folded_into_them_once_at_start(
    fresh_database: MakeDb, tmp_path: Path
) -> None:
    booking, texts = recorded(fortnight())
    feeds = {f.consumer: f for f in FEEDS}
    # Live: the consumers' own applies, the KPIs folded as each fetch is applied.
    live = await fresh_database("proj_kpi_live")
    await migrate(live, [MIGRATIONS])
    async with live.acquire() as conn, conn.transaction():
        await feeds["projections-booking"].apply_batch(conn, booking)
        await feeds["projections-notifications"].apply_batch(conn, texts)
    # An older release recorded the same history, before the KPI tables existed.
    older = await migrated_up_to(
        fresh_database, tmp_path, "001_read_models.sql", "002_diary_days.sql", "003_diary_car_days.sql",
        "004_cheaper_writes.sql", "005_county_events.sql",
    )  # fmt: skip
    async with older.acquire() as conn:
        await batch.record_events(conn, [*booking, *texts])
    await migrate(older, [MIGRATIONS])
    async with older.acquire() as conn:
        assert await kpi_store.fold_recorded_history(conn) == len(booking) + len(texts)
        assert await kpi_store.fold_recorded_history(conn) == 0  # once only
    folded, applied = await kpi_tables(older), await kpi_tables(live)
    assert folded == applied and all(applied.values())
    async with older.acquire() as conn:
        rows = await kpi_store.kpis(conn, await kpi_store.districts(conn), FIRST, LAST, DISTRICT)
        places = await conn.fetchval(
            "select places::text from kpi_districts where district_id = $1", DISTRICT
        )
    assert json.loads(places)["stations"][0]["id"] == STATION  # the rooms and hours, folded too
    # No roster here: the same figures, with nothing offered.
    unoffered = [{**r, "capacity_offered": 0, "capacity_use": None} for r in EXPECTED_TESTSHIRE]
    assert [r.flat() for r in rows] == unoffered
    # A database made since: nothing recorded before its KPI tables, nothing to fold.
    async with live.acquire() as conn:
        assert await kpi_store.fold_recorded_history(conn) == 0
