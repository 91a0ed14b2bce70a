"""The moved-away list as it stood at an instant: the diary's fold over the recorded history.

First on a scripted morning folded into a fresh projections database (test_projection_batches'
history: "a" moves from Stevenage's 2 June to the 3rd at minute 6), at every minute, against
what the diary as it stood says had been on the day and no longer was. Then on the real
services: one appointment at Watford in October 2030 (this test's days) is moved twice, and
the list of each day is read before the booking, between the moves and after them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from services.projections.adapters import store
from services.projections.adapters.moved_away import moved_away, moved_away_as_at
from tests.integration.test_diary_as_at import MakeDb
from tests.integration.test_first_flow import booking_form
from tests.integration.test_projection_batches import (
    D2,
    D3,
    booking_consumer,
    clock,
    envelopes,
    projections_db,
    records,
)
from tests.support import roster
from tests.support.services import ServiceProcess, auth, wait_for_capacity

pytestmark = pytest.mark.integration
STATION, DISTRICT = "watford", "watford"
FIRST, SECOND, THIRD = "2030-10-08", "2030-10-09", "2030-10-10"
OFFICER = "officer-moved-away-7301"


async def test_the_list_as_it_stood_is_what_had_been_on_the_day_and_was_then_elsewhere(
    fresh_database: MakeDb,
) -> None:
    pool = await projections_db(fresh_database, "proj_moved_as_at")
    await booking_consumer("projections-booking", pool).handle_batch(records(envelopes()))
    days = [("station", "stevenage", D2), ("station", "stevenage", D3), ("station", "hitchin", D2),
            ("diary-car", "dacorum", D2)]  # fmt: skip
    async with pool.acquire() as conn:
        for place, place_id, day in days:
            ever_on: set[str] = set()
            for minute in range(-1, 11):
                instant = clock(minute)
                on_day = {
                    e.appointment_id for e in await store.diary_as_at(conn, place, place_id, day, instant)
                }
                ever_on |= on_day
                gone = await moved_away_as_at(conn, place, place_id, day, instant)
                assert {m.appointment_id for m in gone} == ever_on - on_day, (place_id, day, minute)
            # At the end of the history, as it stood is as it is now.
            assert await moved_away_as_at(conn, place, place_id, day, clock(10)) == await moved_away(
                conn, place, place_id, day
            )
        assert await moved_away_as_at(conn, "station", "stevenage", D2, clock(5)) == []
        (line,) = await moved_away_as_at(conn, "station", "stevenage", D2, clock(6))
        assert (line.appointment_id, line.was_when, line.moved_at) == ("a", "6pm to 7pm", clock(0))
        how = (line.initiated_by, line.reason, line.caller_to_be_told)
        assert how == ("police", "officer-withdrawn", True)
        went = line.went_to
        assert (went.place_id, went.day, went.when, went.status, went.officer_id) == (
            "stevenage", D3, "7pm to 8pm", "rescheduled", "o-1",
        )  # fmt: skip


async def moved_away_from(
    projections: ServiceProcess, day: str, at: datetime | None = None
) -> dict[str, Any]:
    params = {"at": at.isoformat()} if at else {}
    async with httpx.AsyncClient(
        base_url=projections.url, headers=auth(Role.CALL_TAKER, "ct-moved")
    ) as client:
        response = await client.get(f"/diaries/stations/{STATION}/{day}/moved-away", params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def where_now(projections: ServiceProcess, appointment_id: str, day: str, status: str) -> None:
    """Wait until the projections have the appointment on ``day`` with ``status``."""
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        for _ in range(150):
            response = await client.get(f"/diaries/stations/{STATION}/{day}")
            shown = {(a["appointment_id"], a["status"]) for a in response.json().get("appointments", [])}
            if (appointment_id, status) in shown:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{appointment_id} never showed {status} on {day}")


def summary(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (m["appointment_id"], m["was_when"], m["initiated_by"], m["reason"], m["went_to"]["day"],
         m["went_to"]["when"], m["went_to"]["status"])
        for m in answer["moved_away"]
    ]  # fmt: skip


async def test_a_day_s_moved_away_list_reads_as_it_stood_before_between_and_after_two_moves(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    starts = [datetime(2030, 10, d, 15, tzinfo=UTC) for d in (8, 9, 10)]
    await roster.publish(test_settings, [
        roster.duty(OFFICER, station=STATION, district=DISTRICT, starts_at=s, ends_at=s + timedelta(hours=4))
        for s in starts
    ])  # fmt: skip
    for day in (FIRST, SECOND, THIRD):
        await wait_for_capacity(booking, STATION, day)
    before_booking = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-moved")) as client:
        booked = await client.post(f"/stations/{STATION}/appointments", json=booking_form(FIRST, "17:00"))
        assert booked.status_code == 201, booked.text
        appointment_id = booked.json()["appointment_id"]
        await where_now(projections, appointment_id, FIRST, "booked")
        booked_here = datetime.now(UTC)
        police = {"day": SECOND, "start": "18:00", "initiated_by": "police", "reason": "room-unavailable"}
        moved = await client.post(f"/appointments/{appointment_id}/reschedule", json=police)
        assert moved.status_code == 200, moved.text
        await where_now(projections, appointment_id, SECOND, "rescheduled")
        moved_once = datetime.now(UTC)
        public = {"day": THIRD, "start": "17:00", "initiated_by": "public", "reason": "caller-asked"}
        again = await client.post(f"/appointments/{appointment_id}/reschedule", json=public)
        assert again.status_code == 200, again.text
        await where_now(projections, appointment_id, THIRD, "rescheduled")
    moved_twice = datetime.now(UTC)

    # The 8th: nothing before the booking or while it was there; then moved by the police to the
    # 9th; after the second move it is on the 10th, but left the 8th by the first move still.
    for instant in (before_booking, booked_here):
        assert (await moved_away_from(projections, FIRST, instant))["moved_away"] == []
    first_then = await moved_away_from(projections, FIRST, moved_once)
    assert first_then["as_at"] is not None
    assert datetime.fromisoformat(first_then["as_at"]) == moved_once
    assert summary(first_then) == [
        (appointment_id, "5pm to 6pm", "police", "room-unavailable", SECOND, "6pm to 7pm", "rescheduled")
    ]
    assert first_then["moved_away"][0]["caller_to_be_told"] is True
    first_after = await moved_away_from(projections, FIRST, moved_twice)
    assert summary(first_after) == [
        (appointment_id, "5pm to 6pm", "police", "room-unavailable", THIRD, "5pm to 6pm", "rescheduled")
    ]
    # The 9th: nothing had left it until the caller moved it on to the 10th.
    assert (await moved_away_from(projections, SECOND, moved_once))["moved_away"] == []
    assert summary(await moved_away_from(projections, SECOND, moved_twice)) == [
        (appointment_id, "6pm to 7pm", "public", "caller-asked", THIRD, "5pm to 6pm", "rescheduled")
    ]
    assert (await moved_away_from(projections, THIRD, moved_twice))["moved_away"] == []
    # As it stood after everything is the list as it is now.
    for day in (FIRST, SECOND, THIRD):
        now, then = (
            await moved_away_from(projections, day),
            await moved_away_from(projections, day, moved_twice),
        )
        assert now["as_at"] is None
        assert now["moved_away"] == then["moved_away"], day

    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        malformed = await client.get(
            f"/diaries/stations/{STATION}/{FIRST}/moved-away", params={"at": "yesterday"}
        )
        assert malformed.status_code == 422, malformed.text
        assert "at" in malformed.text
        car = await client.get(
            f"/diaries/diary-cars/{DISTRICT}/{FIRST}/moved-away", params={"at": moved_twice.isoformat()}
        )
        assert car.status_code == 200 and car.json()["moved_away"] == [], car.text
        gateway = await client.get(
            f"/diaries/stations/{STATION}/{FIRST}/moved-away",
            params={"at": moved_twice.isoformat()},
            headers=auth(Role.GATEWAY, "notify"),
        )
        assert gateway.status_code == 403
