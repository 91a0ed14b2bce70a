"""An appointment's texts and their delivery state on the real Kafka and PostgreSQL; a replay equals live.

Two appointments of this run booked at Stevenage on Tuesday 4 April 2028 (a day no other test
uses; BST, so 17:00 London is 16:00 UTC), and notifications' events about them put on the run's
notifications.events as notifications publishes them: the booked text delivered, a reminder that
Notify failed for its own reasons and then delivered, a text to a landline failed for good (a
call back), a text withdrawn when the appointment moved, and the caller's reply with its score.
The projections show each text's state, the replies as read (never the words), the call-back flag
on the diary's line (not yet in the diary as it stood before the request), and a replay of the
texts model alone rebuilds its tables row for row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.base import DomainEvent
from schemas.envelope import source_of
from schemas.notifications import (
    CallBackRequested,
    ReplyReceived,
    SatisfactionRecorded,
    SmsDelivered,
    SmsFailed,
    SmsQueued,
    SmsWithdrawn,
)
from schemas.personal import Sealed
from services.common.auth import Role
from services.common.config import Settings
from services.common.consumer import Position
from services.common.db import migrate
from services.common.staging import outgoing
from services.common.unit_of_work import Metadata
from services.projections.adapters import batch
from services.projections.adapters import texts as text_store
from services.projections.adapters.models import FEEDS, models_named
from services.projections.adapters.replay import REPLACED, Replay
from services.projections.main import MIGRATIONS
from tests.integration.test_kpis import publish
from tests.integration.test_projection_batches import booked, migrated_up_to
from tests.integration.test_replay import caught_up
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
DAY = date(2028, 4, 4)
STATION = "stevenage"
T0 = datetime(2028, 4, 1, 9, tzinfo=UTC)
TEXT_TABLES = {"texts": "message_id", "text_replies": "message_id", "call_backs": "appointment_id"}
SEALED = Sealed(subject_id="subject-texts", nonce="bm9uY2U", ciphertext="c2VhbGVk")


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


class Script:
    """Two appointments' texts, with ids of this run."""

    def __init__(self) -> None:
        run = uuid.uuid4().hex[:8]
        self.kept, self.moved = f"texts-{run}-kept", f"texts-{run}-moved"
        self.m = {name: f"texts-{run}-{name}" for name in ("booked", "reminder", "landline", "old", "reply")}
        self.events: list[DomainEvent] = []

    def queued(self, name: str, appointment_id: str, template: str, at: int) -> None:
        self.events.append(SmsQueued(
            message_id=self.m[name], appointment_id=appointment_id, template=template, template_id="t",
            reference=f"{appointment_id}/{self.m[name]}", send_at=minutes(at + 1), queued_at=minutes(at),
        ))  # fmt: skip

    def failed(self, name: str, status: str, permanent: bool, at: int) -> None:
        self.events.append(SmsFailed.model_validate({
            "message_id": self.m[name], "reason": "why", "permanent": permanent, "status": status,
            "failed_at": minutes(at),
        }))  # fmt: skip


def script() -> Script:
    s = Script()
    s.queued("booked", s.kept, "booked", 0)
    s.events.append(SmsDelivered(message_id=s.m["booked"], gateway_reference="g1", delivered_at=minutes(2)))
    s.queued("reminder", s.kept, "reminder", 10)
    s.failed("reminder", "technical-failure", False, 12)  # Notify's own: sent again
    s.events.append(
        SmsDelivered(message_id=s.m["reminder"], gateway_reference="g2", delivered_at=minutes(15))
    )
    s.queued("landline", s.moved, "booked", 20)
    s.failed("landline", "permanent-failure", True, 22)
    s.events.append(CallBackRequested(
        message_id=s.m["landline"], appointment_id=s.moved, reason="text-not-delivered",
        requested_at=minutes(22),
    ))  # fmt: skip
    s.queued("old", s.moved, "reminder", 30)
    s.events.append(SmsWithdrawn(
        message_id=s.m["old"], appointment_id=s.moved, reason="appointment-moved", withdrawn_at=minutes(31),
    ))  # fmt: skip
    s.events.append(ReplyReceived(
        message_id=s.m["reply"], appointment_id=s.kept, from_hash="h" * 64, body=SEALED,
        intent="satisfaction", received_at=minutes(40),
    ))  # fmt: skip
    s.events.append(
        SatisfactionRecorded(message_id=s.m["reply"], appointment_id=s.kept, score=5, recorded_at=minutes(40))
    )
    return s


@pytest.fixture
async def owner(test_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn: asyncpg.Connection = await asyncpg.connect(test_settings.database_url("projections"))
    yield conn
    await conn.close()


async def get(
    projections: ServiceProcess, path: str, role: Role = Role.CALL_TAKER, **params: str
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(role)) as client:
        return await client.get(path, params=params)


async def texts_of(projections: ServiceProcess, appointment_id: str) -> dict[str, Any]:
    response = await get(projections, f"/appointments/{appointment_id}/texts")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def states(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (t["template"], t["status"], t["failure"], t["technical_failures"], t["delivered_at"] is not None)
        for t in body["texts"]
    ]


async def test_an_appointments_texts_their_state_the_call_back_on_the_diary_and_a_replay_equal_to_live(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    owner: asyncpg.Connection,
) -> None:
    _, projections = booking_and_projections
    s = script()
    stream = f"station:{STATION}:{DAY}"
    await publish(
        test_settings, [(booked(a, STATION, DAY, hour), stream) for a, hour in ((s.kept, 16), (s.moved, 17))],
        "booking",
    )  # fmt: skip
    await publish(test_settings, [(e, "-") for e in s.events], "notifications")

    await caught_up(owner, test_settings)  # every record on the topics applied
    kept = await texts_of(projections, s.kept)
    assert states(kept) == [
        ("booked", "delivered", None, 0, True),
        ("reminder", "delivered", "technical-failure", 1, True),  # failed once, sent again, delivered
    ]
    assert kept["texts"][0]["send_at"] == "2028-04-01T09:01:00Z"
    assert kept["replies"] == [
        {
            "message_id": s.m["reply"],
            "intent": "satisfaction",
            "received_at": "2028-04-01T09:40:00Z",
            "score": 5,
        }
    ]
    assert (kept["call_back"], kept["call_back_reason"]) == (False, None)
    moved = await texts_of(projections, s.moved)
    assert states(moved) == [
        ("booked", "failed", "permanent-failure", 0, False),
        ("reminder", "withdrawn", None, 0, False),
    ]
    assert moved["texts"][1]["withdrawn_at"] == "2028-04-01T09:31:00Z"
    assert (moved["call_back"], moved["call_back_reason"], moved["call_back_requested_at"]) == (
        True, "text-not-delivered", "2028-04-01T09:22:00Z",
    )  # fmt: skip
    assert moved["replies"] == []
    # Nothing of the caller: no number, no words.
    assert "h" * 64 not in str(kept) and SEALED.ciphertext not in str(kept)

    # The diary's lines carry the flag; as the diary stood before the request, not yet.
    diary = (await get(projections, f"/diaries/stations/{STATION}/{DAY}")).json()
    flags = {line["appointment_id"]: line["call_back"] for line in diary["appointments"]}
    assert (flags[s.kept], flags[s.moved]) == (False, True)
    before = await get(projections, f"/diaries/stations/{STATION}/{DAY}", at="2028-04-01T09:21:00Z")
    assert before.status_code == 200, before.text
    assert {line["appointment_id"]: line["call_back"] for line in before.json()["appointments"]} == {
        s.kept: False, s.moved: False,
    }  # fmt: skip

    # Who may read it, and an id nobody named.
    assert (await get(projections, f"/appointments/{s.kept}/texts", Role.AUDITOR)).status_code == 200
    assert (await get(projections, f"/appointments/{s.kept}/texts", Role.OFFICER)).status_code == 403
    unknown = await get(projections, f"/appointments/texts-{uuid.uuid4().hex}/texts")
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "appointment_id"

    # A replay of the texts model alone rebuilds its tables row for row as the live ones stood.
    await caught_up(owner, test_settings)
    report = await Replay(test_settings, models_named(["texts"]), batch_records=4, keep_replaced=True).run()
    assert report.models == ["texts"] and report.outcomes["applied"] > 0
    for name, key in TEXT_TABLES.items():
        live = await owner.fetch(f"select * from {REPLACED}.{name} order by {key}")
        rebuilt = await owner.fetch(f"select * from public.{name} order by {key}")
        assert [dict(r) for r in rebuilt] == [dict(r) for r in live], name
        assert live, name
    assert (await get(projections, f"/appointments/{s.moved}/texts")).json() == moved


MakeDb = Callable[[str], Awaitable[asyncpg.Pool]]


async def text_tables(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    async with pool.acquire() as conn:
        return {
            name: [dict(r) for r in await conn.fetch(f"select * from {name} order by {key}")]
            for name, key in TEXT_TABLES.items()
        }


async def test_a_history_recorded_before_the_texts_model_existed_is_folded_into_it_once_at_start(
    fresh_database: MakeDb, tmp_path: Path
) -> None:
    s = script()
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor="system:test-texts", now=T0)
    records = [
        (outgoing(e, "-", source_of("notifications"), meta).envelope, Position("notifications.events", 0, n))
        for n, e in enumerate(s.events)
    ]
    feed = next(f for f in FEEDS if f.consumer == "projections-notifications")
    live = await fresh_database("proj_texts_live")
    await migrate(live, [MIGRATIONS])
    async with live.acquire() as conn, conn.transaction():
        await feed.apply_batch(conn, records)
    older = await migrated_up_to(
        fresh_database, tmp_path, "001_read_models.sql", "002_diary_days.sql", "003_diary_car_days.sql",
        "004_cheaper_writes.sql", "005_county_events.sql", "006_kpis.sql", "007_access_log.sql",
        "008_kpis_backfill.sql",
    )  # fmt: skip
    async with older.acquire() as conn:
        await batch.record_events(conn, records)
    await migrate(older, [MIGRATIONS])
    async with older.acquire() as conn:
        assert await text_store.fold_recorded_history(conn) == len(records)
        assert await text_store.fold_recorded_history(conn) == 0  # once only
    folded, applied = await text_tables(older), await text_tables(live)
    assert folded == applied and all(applied.values())
    async with live.acquire() as conn:
        assert await text_store.fold_recorded_history(conn) == 0
