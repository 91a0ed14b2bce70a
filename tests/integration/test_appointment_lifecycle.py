"""An appointment's life after booking, through the real booking and projections services."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from services.common.auth import Role
from tests.integration.test_first_flow import booking_form, diary_of
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
STATION = "hemel-hempstead"


async def book(client: httpx.AsyncClient, day: str, start: str) -> str:
    response = await client.post(f"/stations/{STATION}/appointments", json=booking_form(day, start))
    assert response.status_code == 201, response.text
    appointment_id: str = response.json()["appointment_id"]
    return appointment_id


async def eventually_in_diary(projections: ServiceProcess, day: str, appointment_id: str) -> dict[str, Any]:
    for _ in range(100):
        lines = [
            line
            for line in await diary_of(projections, STATION, day)
            if line["appointment_id"] == appointment_id
        ]
        if lines:
            return lines[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{appointment_id} never reached the {day} diary")


async def test_a_rescheduled_then_moved_then_cancelled_appointment_shows_where_it_is_now(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, projections = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        appointment_id = await book(client, "2027-02-08", "17:00")
        same_day = await client.post(
            f"/appointments/{appointment_id}/reschedule",
            json={"day": "2027-02-08", "start": "19:00", "initiated_by": "public", "reason": "works late"},
        )
        assert same_day.status_code == 200, same_day.text
        assert same_day.json()["events"] == ["AppointmentRescheduled"]
        other_day = await client.post(
            f"/appointments/{appointment_id}/reschedule",
            json={"day": "2027-02-09", "start": "18:00", "initiated_by": "police", "reason": "room repairs"},
        )
        assert other_day.json()["events"] == ["AppointmentRescheduled", "AppointmentMovedOut"]
        # The freed slot on the first day can be booked again: the room hold moved with it.
        second = await book(client, "2027-02-08", "19:00")
        moved = await eventually_in_diary(projections, "2027-02-09", appointment_id)
        assert (moved["when"], moved["status"]) == ("6pm to 7pm", "rescheduled")
        cancelled = await client.post(
            f"/appointments/{appointment_id}/cancel",
            json={"initiated_by": "public", "reason": "no-longer-needed"},
        )
        assert cancelled.json()["events"] == ["AppointmentCancelled"]
        again = await client.post(
            f"/appointments/{appointment_id}/cancel",
            json={"initiated_by": "public", "reason": "no-longer-needed"},
        )
        assert again.status_code in (200, 409)
        if again.status_code == 200:
            assert again.json()["events"] == []
    for _ in range(100):
        if (await eventually_in_diary(projections, "2027-02-09", appointment_id))["status"] == "cancelled":
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the cancellation never reached the diary")
    assert (await eventually_in_diary(projections, "2027-02-08", second))["status"] == "booked"


async def test_attendance_is_for_officers_after_the_start_and_an_unknown_appointment_is_404(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, _ = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url) as client:
        appointment_id = await book(
            httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)), "2027-02-10", "17:00"
        )
        by_call_taker = await client.post(
            f"/appointments/{appointment_id}/attendance",
            json={"outcome": "advice-given"},
            headers=auth(Role.CALL_TAKER),
        )
        assert by_call_taker.status_code == 403
        by_officer = await client.post(
            f"/appointments/{appointment_id}/attendance",
            json={"outcome": "advice-given"},
            headers=auth(Role.OFFICER, "4471"),
        )
        # Not yet: nothing can have happened at an appointment that has not begun.
        assert by_officer.status_code == 422, by_officer.text
        assert "once it has begun" in by_officer.json()["errors"][0]["reason"]
        cancelled = await client.post(
            f"/appointments/{appointment_id}/cancel",
            json={"initiated_by": "police", "reason": "other"},
            headers=auth(Role.CALL_TAKER),
        )
        assert cancelled.status_code == 200
        after_cancel = await client.post(
            f"/appointments/{appointment_id}/no-show",
            json={"missed_by": "public", "reason": "did not come"},
            headers=auth(Role.OFFICER),
        )
        assert after_cancel.status_code in (409, 422), after_cancel.text
        unknown = await client.post(
            "/appointments/no-such-appointment/no-show",
            json={"missed_by": "public", "reason": "did not come"},
            headers=auth(Role.OFFICER),
        )
        assert unknown.status_code == 404
        assert unknown.json()["errors"][0]["field"] == "appointment_id"
