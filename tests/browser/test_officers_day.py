"""An officer's day, the figures and the access log in a real browser on the real services.

Officer 4021 (the pages' user ``pc-4021``) is registered on the roster at Borehamwood and put on
appointment duty there and on Hertsmere's diary car on a day no other test uses (after the blanket
roster's span, so nobody else is on duty in Hertsmere): a caller booked at the station and a home
visit are theirs. The officer opens "My day" and reads both briefings, the visit's address among
them; officer 4188 is refused the same page; an auditor finds the officer's opening in the access
log. A supervisor books and cancels in a week of its own and reads the counts on the figures page.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
from playwright.async_api import Browser, Page, expect

from services.common.auth import Role
from services.common.london import local
from tests.browser.appointments import (
    OFFICERS_DAY,
    OFFICERS_STATION,
    book,
    on_duty,
    wait_for_free,
    wait_in_diary,
)
from tests.browser.axe import serious_violations
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, Site, sign_in
from tests.support.services import ServiceProcess, auth

DISTRICT = "hertsmere"  # Borehamwood's district
ADDRESS = {"line1": "12 Quillfeather Close", "town": "Borehamwood", "postcode": "WD6 1AA"}


async def book_visit(booking: ServiceProcess, day: str, start: str, case_reference: str) -> str:
    """A home visit by Hertsmere's diary car, booked over booking's API; its id."""
    form = {
        "day": day, "start": start, "incident_grade": "scheduled",
        "caller": {"name": "Perpetua Quillfeather", "phone": "07700 900462", "address": ADDRESS},
        "briefing": {"case_reference": case_reference, "summary": "Shed broken into overnight",
                     "vulnerability": "Lives alone, anxious", "thrive_risk": "medium", "language": "pl",
                     "interpreter_needed": True, "safe_to_text": False, "safe_to_call": True},
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-api")) as client:
        answer = await client.post(f"/diary-cars/{DISTRICT}/visits", json=form)
    assert answer.status_code == 201, answer.text
    appointment_id: str = answer.json()["appointment_id"]
    return appointment_id


async def test_an_officer_reads_their_days_briefings_another_is_refused_and_the_auditor_sees_the_opening(
    browser: Browser,
    page: Page,
    web: Site,
    roster_service: ServiceProcess,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, projections = booking_and_projections
    # 5pm to 7pm at Borehamwood, and the diary car from 10am to midday (British Summer Time).
    officer_id = await on_duty(roster_service, "4021", OFFICERS_STATION, [
        {"duty": "appointments", "station_id": OFFICERS_STATION, "starts_at": f"{OFFICERS_DAY}T16:00:00Z",
         "ends_at": f"{OFFICERS_DAY}T18:00:00Z"},
        {"duty": "diary-car", "station_id": None, "district_id": DISTRICT,
         "starts_at": f"{OFFICERS_DAY}T09:00:00Z", "ends_at": f"{OFFICERS_DAY}T11:00:00Z"},
    ])  # fmt: skip
    await wait_for_free(booking, f"/stations/{OFFICERS_STATION}/free-slots", OFFICERS_DAY, 2)
    await wait_for_free(booking, f"/diary-cars/{DISTRICT}/free-windows", OFFICERS_DAY, 1)
    booked = await book(booking, OFFICERS_DAY, "17:00", "41/MYDAY/27", station=OFFICERS_STATION)
    assert booked["officer_id"] == officer_id  # the only officer on duty there
    visit = await book_visit(booking, OFFICERS_DAY, "10:00", "41/VISIT/27")
    await wait_in_diary(projections, OFFICERS_DAY, booked["appointment_id"], station=OFFICERS_STATION)
    problems: dict[str, list[str]] = {}

    # The officer opens "My day" from the navigation and moves to the day.
    await sign_in(page, web, "pc-4021")
    await page.get_by_role("link", name="My day").click()
    assert f"/officers/{officer_id}/days/" in page.url  # found by their collar number
    await page.goto(f"{web.url}/my-day?day={OFFICERS_DAY}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tuesday 10 August 2027")
    deadline = time.monotonic() + 30  # the visit may reach the projections a moment after the slot
    while await page.locator(".app-briefing").count() < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        await page.reload()
    station, home = page.locator(".app-briefing").nth(1), page.locator(".app-briefing").nth(0)
    await expect(home).to_contain_text("10am to midday: home visit")
    await expect(home).to_contain_text("Perpetua Quillfeather")
    await expect(home).to_contain_text("12 Quillfeather Close")
    await expect(home).to_contain_text("Lives alone, anxious")
    await expect(home).to_contain_text("Polish")
    await expect(station).to_contain_text("5pm to 6pm")
    await expect(station).to_contain_text("Borehamwood police station, confidential room 1")
    await expect(station).to_contain_text("Alex Example")
    await expect(station).to_contain_text("07700 900123")
    await expect(station).to_contain_text("41/MYDAY/27")
    await expect(station).to_contain_text("Bicycle stolen from a shed")
    problems["my-day desktop"] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "my-day-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    problems["my-day phone"] = await serious_violations(page)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=SCREENSHOTS / "my-day-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)

    # Recording what happened starts from the briefing, the choice already made.
    await station.get_by_role("button", name="Record that it took place").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Record what happened")
    await expect(page.get_by_label("The meeting took place")).to_be_checked()
    await page.get_by_role("link", name="Back to the day").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tuesday 10 August 2027")

    # Another officer is refused the same page, and sees nothing of it.
    other = await browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    refused = await other.new_page()
    await sign_in(refused, web, "pc-4188", start=f"/officers/{officer_id}/days/{OFFICERS_DAY}")
    await expect(refused.get_by_role("heading", level=1)).to_have_text("You cannot see this")
    assert "Alex Example" not in await refused.content()
    await other.close()

    # The auditor finds the officer's opening in the access log, today's, by who and which appointment.
    auditor = await browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    log = await auditor.new_page()
    await sign_in(log, web, "au-lee")
    await log.get_by_role("link", name="Access log").click()
    today = local(datetime.now(UTC)).date()
    await expect(log.get_by_label("Day", exact=True).first).to_have_value(str(today.day))
    opened = log.locator("tr", has_text=booked["appointment_id"]).filter(has_text="pc-4021 (officer)")
    # By collar number when the roster answers in time (else by id): the day and what was done either way.
    await expect(opened.first).to_contain_text("Consulted: Officer ")
    await expect(opened.first).to_contain_text("'s day with its briefings, Tuesday 10 August 2027")
    assert await log.locator("tr", has_text=visit).filter(has_text="pc-4021 (officer)").count() >= 1
    await expect(log.locator("tr", has_text="pc-4188")).to_have_count(0)  # refused: nothing was shown
    # One person's whole story: follow the caller's subject id.
    await opened.first.get_by_role("link", name="subject-").click()
    await expect(log.locator("tr", has_text="Collected")).not_to_have_count(0)
    problems["access-log"] = await serious_violations(log)
    await auditor.close()
    assert {name: found for name, found in problems.items() if found} == {}
