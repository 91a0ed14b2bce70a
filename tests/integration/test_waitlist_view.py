"""The projections' waitlist view on the real services: who waits for a station, in order, and the
offers out, as booking's own waitlist moves; a replay of the model equals the live table.

Bishop's Stortford (open Tuesday, Thursday and Saturday; one room) in November 2030 (GMT: London's
clock is UTC), days no other test uses, with an officer of the test's own on duty there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from services.projections.adapters.models import models_named
from services.projections.adapters.replay import REPLACED, Replay
from tests.integration.test_replay import caught_up
from tests.integration.test_waitlist import fill, join, waitlist_form
from tests.support import roster
from tests.support.services import ServiceProcess, auth, wait_for_capacity

pytestmark = pytest.mark.integration
STATION, DISTRICT = "bishops-stortford", "east-hertfordshire"
TUESDAY, THURSDAY, SATURDAY = "2030-11-05", "2030-11-07", "2030-11-09"
CASES = {"first": "41/30001/30", "second": "41/30002/30", "later": "41/30003/30"}


@pytest.fixture
async def owner(test_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn: asyncpg.Connection = await asyncpg.connect(test_settings.database_url("projections"))
    yield conn
    await conn.close()


def waiting_for(case: str, first: str, last: str) -> dict[str, Any]:
    form = waitlist_form(first, last)
    return {**form, "briefing": {**form["briefing"], "case_reference": CASES[case]}}


async def view(
    projections: ServiceProcess, role: Role = Role.SUPERVISOR, days: tuple[str, str] | None = None
) -> httpx.Response:
    params = {"from": days[0], "to": days[1]} if days else {}
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(role)) as client:
        return await client.get(f"/waitlists/stations/{STATION}", params=params)


def standing(body: dict[str, Any]) -> list[tuple[int, str, str]]:
    """Each caller's position, case reference and state."""
    return [(c["position"], c["case_reference"], c["state"]) for c in body["waiting"]]


async def until_standing(
    projections: ServiceProcess, wanted: list[tuple[int, str, str]], wait_seconds: float = 30
) -> dict[str, Any]:
    """The station's waitlist once it reads ``wanted`` (the projections follow booking's events)."""
    deadline = time.monotonic() + wait_seconds
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await view(projections)
        assert response.status_code == 200, response.text
        body = response.json()
        if standing(body) == wanted:
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"the waitlist never read {wanted}: {standing(body)}")


async def test_who_waits_in_order_and_the_offers_out_follow_booking_and_a_replay_equals_live(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    test_settings: Settings,
    owner: asyncpg.Connection,
) -> None:
    booking, projections = booking_and_projections
    await roster.publish(test_settings, [roster.duty(
        "officer-bs-waitlist-view", station=STATION, district=DISTRICT,
        starts_at=datetime(2030, 11, 1, tzinfo=UTC), ends_at=datetime(2030, 12, 1, tzinfo=UTC),
    )])  # fmt: skip
    await wait_for_capacity(booking, STATION, TUESDAY)
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-view")) as client:
        # Both days full, so that nobody waiting is offered anything until a slot is freed.
        booked = await fill(client, TUESDAY)
        await fill(client, THURSDAY)
        first = await join(client, waiting_for("first", TUESDAY, THURSDAY))
        second = await join(client, waiting_for("second", TUESDAY, TUESDAY))
        later = await join(client, waiting_for("later", THURSDAY, THURSDAY))

        # Three waiting, first come first; no caller's name or number, the case reference as a diary's.
        body = await until_standing(
            projections,
            [(1, CASES["first"], "waiting"), (2, CASES["second"], "waiting"), (3, CASES["later"], "waiting")],
        )
        assert [c["appointment_id"] for c in body["waiting"]] == [first, second, later]
        top = body["waiting"][0]
        assert (top["from_day"], top["to_day"], top["incident_grade"], top["thrive_risk"]) == (
            TUESDAY, THURSDAY, "scheduled", "low",
        )  # fmt: skip
        assert top["days"] == "Tuesday 5 November 2030 to Thursday 7 November 2030"
        assert top["offer"] is None and body["offers_out"] == 0
        assert "Jane" not in str(body) and "900456" not in str(body)
        # A range: only the callers whose days meet it, in the same order.
        thursday = (await view(projections, days=(THURSDAY, SATURDAY))).json()
        assert standing(thursday) == [(1, CASES["first"], "waiting"), (2, CASES["later"], "waiting")]
        tuesday = (await view(projections, days=(TUESDAY, TUESDAY))).json()
        assert standing(tuesday) == [(1, CASES["first"], "waiting"), (2, CASES["second"], "waiting")]

        # A cancellation frees 6pm on the Tuesday: booking offers it to the first caller it fits.
        cancelled = await client.post(
            f"/appointments/{booked['18:00']}/cancel", json={"initiated_by": "public", "reason": "duplicate"}
        )
        assert cancelled.status_code == 200, cancelled.text
        body = await until_standing(
            projections,
            [(1, CASES["first"], "offered"), (2, CASES["second"], "waiting"), (3, CASES["later"], "waiting")],
        )
        offer = body["waiting"][0]["offer"]
        assert (offer["starts_at"], offer["when"]) == (
            "2030-11-05T18:00:00Z",
            "Tuesday 5 November 2030, 6pm to 7pm",
        )
        assert offer["room_id"] == f"{STATION}-room-1" and offer["officer_id"] == "officer-bs-waitlist-view"
        assert body["offers_out"] == 1 and body["waiting"][0]["offers"] == 1

        # The first declines but waits on; the slot goes to the second (the first is never offered
        # that day again), who accepts and leaves the list.
        declined = await client.post(f"/offers/{first}/decline", json={})
        assert declined.status_code == 200, declined.text
        body = await until_standing(
            projections,
            [(1, CASES["first"], "waiting"), (2, CASES["second"], "offered"), (3, CASES["later"], "waiting")],
        )
        assert (body["waiting"][0]["declined"], body["waiting"][0]["offer"]) == (1, None)
        accepted = await client.post(f"/offers/{second}/accept")
        assert accepted.status_code == 200, accepted.text
        await until_standing(projections, [(1, CASES["first"], "waiting"), (2, CASES["later"], "waiting")])
        left = await client.post(f"/waitlist/{later}/leave")
        assert left.status_code == 200, left.text
        await until_standing(projections, [(1, CASES["first"], "waiting")])

    # Who may read it, and refusals with the field.
    assert (await view(projections, Role.CALL_TAKER)).status_code == 200
    assert (await view(projections, Role.OFFICER)).status_code == 403
    backwards = await view(projections, days=(SATURDAY, TUESDAY))
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "from"
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        nowhere = await client.get("/waitlists/stations/gotham")
        assert nowhere.status_code == 404 and nowhere.json()["errors"][0]["field"] == "station_id"
        car = await client.get(f"/waitlists/diary-cars/{DISTRICT}", params={"from": TUESDAY, "to": SATURDAY})
        assert car.status_code == 200 and car.json()["place"] == "diary-car"

    # A replay of the waitlist model alone rebuilds its table row for row as the live one stood
    # (the entries that left or booked too), and the view reads the same from it.
    before = (await view(projections)).json()
    await caught_up(owner, test_settings)
    report = await Replay(
        test_settings, models_named(["waitlist"]), batch_records=7, keep_replaced=True
    ).run()
    assert report.models == ["waitlist"] and report.outcomes["applied"] > 0
    live = await owner.fetch(f"select * from {REPLACED}.waitlist_entries order by appointment_id")
    rebuilt = await owner.fetch("select * from public.waitlist_entries order by appointment_id")
    assert [dict(r) for r in rebuilt] == [dict(r) for r in live]
    mine = {r["appointment_id"]: r["state"] for r in live if r["appointment_id"] in (first, second, later)}
    assert mine == {first: "waiting", second: "booked", later: "left"}
    assert (await view(projections)).json() == before

    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-view")) as client:
        assert (await client.post(f"/waitlist/{first}/leave")).status_code == 200  # nobody left waiting
