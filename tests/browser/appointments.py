"""Appointments made over booking's API for the browser tests, and waiting for the diary to show them."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

import httpx

from services.common.auth import Role
from tests.support.services import ServiceProcess, auth

# Days no other test books (grep the tests for 2027-06-2x before using one elsewhere).
AXE_DAY = "2027-06-24"
BOOKING_DAY = "2027-06-23"
RACE_DAY = "2027-06-22"
CHANGE_DAY = "2027-06-21"
ATTENDANCE_DAY = "2027-06-27"
STATION = "stevenage"
# The roster test's officers are the only ones at Cheshunt on this day (the blanket roster skips it).
ROSTER_DAY, ROSTER_STATION = "2027-06-28", "cheshunt"
# After the blanket roster's span: the officer's-day and figures tests' officers are the only ones in
# Hertsmere (Borehamwood and its diary car) on these days and in these ISO weeks.
OFFICERS_DAY, OFFICERS_STATION = "2027-08-10", "borehamwood"
FIGURES_DAY, FIGURES_STATION = "2027-08-17", "borehamwood"
# The waiting-list test's days at Cheshunt (nobody is on duty there then).
WAITLIST_DAYS = (date(2027, 6, 29), date(2027, 6, 30))


async def book(
    booking: ServiceProcess, day: str, start: str, case_reference: str, station: str = STATION
) -> dict[str, Any]:
    """A station slot booked by a call taker over the API; the body booking answers."""
    form = {
        "day": day,
        "start": start,
        "incident_grade": "scheduled",
        "caller": {"name": "Alex Example", "phone": "07700 900123"},
        "briefing": {
            "case_reference": case_reference,
            "summary": "Bicycle stolen from a shed",
            "thrive_risk": "low",
            "safe_to_text": True,
            "safe_to_call": True,
        },
    }
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-api")) as client:
        response = await client.post(f"/stations/{station}/appointments", json=form)
    assert response.status_code == 201, response.text
    booked: dict[str, Any] = response.json()
    return booked


async def wait_in_diary(
    projections: ServiceProcess, day: str, appointment_id: str, wait: float = 60, station: str = STATION
) -> None:
    """Wait until the projections' diary of ``day`` at the station holds ``appointment_id``."""
    deadline = time.monotonic() + wait
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        while time.monotonic() < deadline:
            response = await client.get(f"/diaries/stations/{station}/{day}")
            if response.status_code == 200 and any(
                a["appointment_id"] == appointment_id for a in response.json()["appointments"]
            ):
                return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the diary of {day} never showed {appointment_id}")


async def on_duty(roster: ServiceProcess, collar: str, station: str, duties: list[dict[str, Any]]) -> str:
    """An officer registered at ``station`` and put on ``duties`` over the roster's API; their roster id."""
    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.SUPERVISOR, "ps-api")) as client:
        officer = await client.post("/officers", json={"collar_number": collar, "station_id": station})
        assert officer.status_code == 201, officer.text
        officer_id: str = officer.json()["officer_id"]
        for duty in duties:
            answer = await client.post(f"/officers/{officer_id}/duties", json=duty)
            assert answer.status_code == 201, answer.text
    return officer_id


async def on_station_duty(
    roster: ServiceProcess,
    booking: ServiceProcess,
    collar: str,
    station: str,
    days: tuple[str, ...],
    *,
    ends: str = "19:00",
    free: int = 3,
) -> str:
    """An officer on appointments duty at ``station`` from 15:00 UTC to ``ends`` on each of ``days``,
    once booking offers ``free`` slots on each; their roster id."""
    officer_id = await on_duty(roster, collar, station, [
        {"duty": "appointments", "station_id": station, "starts_at": f"{day}T15:00:00Z",
         "ends_at": f"{day}T{ends}:00Z"}
        for day in days
    ])  # fmt: skip
    for day in days:
        await wait_for_free(booking, f"/stations/{station}/free-slots", day, free)
    return officer_id


async def moved_away_listed(
    projections: ServiceProcess, station: str, day: str, appointment_id: str, wait: float = 60
) -> None:
    """Wait until the projections list the appointment (alone) as moved away from the station's day."""
    deadline = time.monotonic() + wait
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        while time.monotonic() < deadline:
            answer = await client.get(f"/diaries/stations/{station}/{day}/moved-away")
            if answer.status_code == 200 and [m["appointment_id"] for m in answer.json()["moved_away"]] == [
                appointment_id
            ]:
                return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the projections never showed {appointment_id} moved away from {day}")


async def wait_for_free(booking: ServiceProcess, path: str, day: str, count: int, wait: float = 60) -> None:
    """Wait until booking offers ``count`` free slots (or windows) at ``path`` on ``day``."""
    deadline = time.monotonic() + wait
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        while time.monotonic() < deadline:
            free = await client.get(path, params={"from": day, "to": day})
            if free.status_code == 200 and len(free.json()) >= count:
                return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"booking never offered {count} at {path} on {day}")
