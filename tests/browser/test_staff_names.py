"""A call taker's booking shows in its history by the call taker's name, in a real browser on the
real services: signing in to the pages names the call taker in the roster's staff directory, and
an auditor reading the history sees "Ben Call-Taker (call taker)", never the sign-in subject.

Its day, 3 September 2030 at Hitchin, is no other test's (an officer of its own, 8301, on duty).
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Page, expect

from services.common.auth import Role
from tests.browser.appointments import on_station_duty, wait_in_diary
from tests.browser.conftest import Site, sign_in
from tests.support.services import ServiceProcess, auth

DAY, STATION = "2030-09-03", "hitchin"


async def test_a_call_taker_s_booking_shows_in_the_history_by_their_name(
    page: Page,
    web: Site,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    roster_service: ServiceProcess,
) -> None:
    booking, projections = booking_and_projections
    await on_station_duty(roster_service, booking, "8301", STATION, (DAY,), ends="18:00", free=1)

    # The call taker signs in to the pages (which tells the roster their name), and books as
    # themselves: the booking's actor is their role and sign-in subject, never their name.
    await sign_in(page, web, "ct-ben")
    form: dict[str, Any] = {
        "day": DAY, "start": "17:00", "incident_grade": "scheduled",
        "caller": {"name": "Alex Example", "phone": "07700 900123"},
        "briefing": {"case_reference": "41/STAFF/30", "summary": "Bicycle stolen", "thrive_risk": "low",
                     "safe_to_text": True, "safe_to_call": True},
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-ben")) as client:
        booked = await client.post(f"/stations/{STATION}/appointments", json=form)
    assert booked.status_code == 201, booked.text
    appointment_id = booked.json()["appointment_id"]
    await wait_in_diary(projections, DAY, appointment_id, station=STATION)

    # An auditor reads the history: who booked it, by name and role.
    await page.context.clear_cookies()
    await sign_in(page, web, "au-lee", start=f"/appointments/{appointment_id}")
    timeline = page.locator(".app-timeline")
    await expect(timeline).to_contain_text("Station appointment booked")
    await expect(timeline).to_contain_text("Ben Call-Taker (call taker)")
    await expect(timeline).not_to_contain_text("ct-ben")
