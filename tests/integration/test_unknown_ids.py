"""An unknown station, district, officer or appointment answers 404 alike on every service.

The same body everywhere: the status, the reason, the field whose id nobody knows, and the
code `not-found`; no cache keeps it. Before, an unknown station answered 422 on booking and
200 with an empty diary on projections.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.common.auth import Role
from tests.support.services import ServiceProcess, auth, seed_county, service, wait_for_roster_county

pytestmark = pytest.mark.integration

DAY = "2027-02-03"
BOOKING_BODY: dict[str, Any] = {
    "day": DAY, "start": "17:00", "incident_grade": "scheduled",
    "caller": {"name": "Jane Citizen", "phone": "07700 900123"},
    "briefing": {"case_reference": "41/1/27", "summary": "Bike stolen", "thrive_risk": "low",
                 "safe_to_text": True, "safe_to_call": True},
}  # fmt: skip
NOBODY = str(uuid.uuid4())
CANCEL = {"initiated_by": "public", "reason": "no-longer-needed"}


@pytest.fixture(scope="module")
async def roster_service(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The roster, holding the county booking recorded."""
    booking, _ = booking_and_projections
    process = await service("roster", tmp_path_factory.mktemp("roster-logs")).start()
    await wait_for_roster_county(process, await seed_county(booking))
    yield process
    process.stop()


async def projections_know_the_county(projections: ServiceProcess, wait_seconds: float = 30) -> None:
    """Wait until the projections have read the county from booking.events (503 until then)."""
    deadline = time.monotonic() + wait_seconds
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        while time.monotonic() < deadline:
            if (await client.get(f"/diaries/stations/stevenage/{DAY}")).status_code == 200:
                return
            await asyncio.sleep(0.2)
    raise TimeoutError("the projections never read the county")


def assert_not_found(response: httpx.Response, field: str) -> None:
    assert response.status_code == 404, response.text
    body = response.json()
    assert body == {
        "status": 404,
        "detail": body["errors"][0]["reason"],
        "errors": [{"field": field, "reason": body["detail"]}],
        "code": "not-found",
    }
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/stations/gotham/free-slots", None, "station_id"),
        ("GET", "/diary-cars/gotham/free-windows", None, "district_id"),
        ("POST", "/stations/gotham/appointments", BOOKING_BODY, "station_id"),
        ("POST", "/diary-cars/gotham/visits", BOOKING_BODY, "district_id"),
        ("POST", f"/appointments/{NOBODY}/cancel", CANCEL, "appointment_id"),
        ("POST", "/appointments/not%00an%00id/cancel", CANCEL, "appointment_id"),
        ("GET", f"/waitlist/{NOBODY}", None, "appointment_id"),
    ],
)  # fmt: skip
async def test_booking_answers_an_unknown_id_404(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    booking, _ = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.SUPERVISOR)) as client:
        response = await client.request(method, path, json=body)
    assert_not_found(response, field)
    assert "Jane" not in response.text


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/duties?place=station&place_id=gotham&day={DAY}", "place_id"),
        (f"/duties?place=diary-car&place_id=gotham&day={DAY}", "place_id"),
        ("/officers/nobody", "officer_id"),
    ],
)
async def test_the_roster_answers_an_unknown_id_404(
    roster_service: ServiceProcess, path: str, field: str
) -> None:
    async with httpx.AsyncClient(base_url=roster_service.url, headers=auth(Role.SUPERVISOR)) as client:
        assert_not_found(await client.get(path), field)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/diaries/stations/gotham/{DAY}", "station_id"),
        (f"/diaries/diary-cars/gotham/{DAY}", "district_id"),
        (f"/diaries/stations/stevenage%00/{DAY}", "station_id"),
        (f"/appointments/{NOBODY}/history", "appointment_id"),
    ],
)
async def test_the_projections_answer_an_unknown_id_404(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], path: str, field: str
) -> None:
    _, projections = booking_and_projections
    await projections_know_the_county(projections)
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        assert_not_found(await client.get(path), field)


async def test_a_known_station_s_and_district_s_empty_day_is_a_diary(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    _, projections = booking_and_projections
    await projections_know_the_county(projections)
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR)) as client:
        for path in ("/diaries/stations/royston/2031-01-06", "/diaries/diary-cars/dacorum/2031-01-06"):
            response = await client.get(path)
            assert response.status_code == 200, response.text
            assert response.json()["appointments"] == []
