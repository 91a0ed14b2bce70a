"""A call taker finds an appointment by its case reference and by the caller's phone number, by the
keyboard, in a real browser on the real services, and opens it; the diary it moved away from says
where it went.

Officer 5911 is the only one on appointment duty at Stevenage on 15 and 16 May 2029 (nobody else
is rostered in 2029). One caller is booked twice on the 15th and moves one of them to the 16th.
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Page, expect

from services.common.auth import Role
from tests.browser.appointments import moved_away_listed, on_station_duty
from tests.browser.axe import serious_violations
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, Site, sign_in
from tests.support.services import ServiceProcess, auth

STATION = "stevenage"
FIND_DAY, MOVED_TO_DAY = "2029-05-15", "2029-05-16"
CALLER_PHONE = "07700 900481"
MOVED_CASE, KEPT_CASE = "41/FIND/29", "41/KEEP/29"


async def book(booking: ServiceProcess, start: str, case_reference: str) -> str:
    """A slot booked by a call taker over booking's API for this test's caller; its appointment id."""
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-api")) as client:
        response = await client.post(f"/stations/{STATION}/appointments", json={
            "day": FIND_DAY, "start": start, "incident_grade": "scheduled",
            "caller": {"name": "Wilhelmina Prout", "phone": CALLER_PHONE},
            "briefing": {"case_reference": case_reference, "summary": "Phone taken from a car",
                         "thrive_risk": "low", "safe_to_text": True, "safe_to_call": True},
        })  # fmt: skip
    assert response.status_code == 201, response.text
    appointment_id: str = response.json()["appointment_id"]
    return appointment_id


async def send(page: Page, key: str = "Enter") -> None:
    """Press a key that sends a form or follows a link, and wait for the next page."""
    async with page.expect_navigation():
        await page.keyboard.press(key)


async def test_a_call_taker_finds_an_appointment_by_case_reference_and_phone_and_the_diary_says_where_it_went(
    page: Page,
    web: Site,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    roster_service: ServiceProcess,
) -> None:
    booking, projections = booking_and_projections
    await on_station_duty(roster_service, booking, "5911", STATION, (FIND_DAY, MOVED_TO_DAY))
    moved = await book(booking, "17:00", MOVED_CASE)
    kept = await book(booking, "18:00", KEPT_CASE)
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-api")) as client:
        body = {"day": MOVED_TO_DAY, "start": "18:00", "initiated_by": "public", "reason": "caller-asked"}
        answer: Any = await client.post(f"/appointments/{moved}/reschedule", json=body)
    assert answer.status_code == 200, answer.text
    await moved_away_listed(projections, STATION, FIND_DAY, moved)
    problems: dict[str, list[str]] = {}

    # From the county page, by the keyboard: the case reference typed, Enter, and the one found opened.
    await sign_in(page, web, "ct-ana")
    await page.get_by_label("Find an appointment by case reference").focus()
    await page.keyboard.type(MOVED_CASE.lower())
    await send(page)
    results = page.locator("#results")
    caption = results.locator("caption")
    await expect(caption).to_have_text(f"1 appointment found for case reference {MOVED_CASE.lower()}")
    (row,) = await results.locator("tbody tr").all()
    await expect(row).to_contain_text("Wednesday 16 May 2029, 6pm to 7pm")
    await expect(row).to_contain_text("Stevenage police station")
    await expect(row).to_contain_text("Rescheduled")
    await expect(row).to_contain_text("Officer: 5911")
    await row.get_by_role("link", name="Open").focus()
    await send(page)
    assert f"/appointments/{moved}?" in page.url
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Wednesday 16 May 2029 at 6pm, Stevenage police station"
    )
    await expect(page.get_by_role("button", name="Move it")).to_be_visible()

    # By the phone, from the navigation's Find: nothing typed first, then a number that is not one.
    await page.get_by_role("link", name="Find", exact=True).focus()
    await send(page)
    await page.get_by_label("Caller's phone number").focus()
    await send(page)
    summary = page.locator(".govuk-error-summary")
    await expect(summary).to_contain_text("Enter the caller's phone number")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#phone")
    await page.get_by_label("Caller's phone number").fill("call me")
    await page.get_by_label("Caller's phone number").focus()
    await send(page)
    await expect(summary).to_contain_text("Enter a phone number, like 07700 900123")
    problems["find-error"] = await serious_violations(page)

    # The number as the caller says it, another way than it was booked: both their appointments.
    await page.get_by_label("Caller's phone number").fill("+44 7700 900481")
    await page.get_by_label("Caller's phone number").focus()
    await send(page)
    await expect(summary).to_have_count(0)
    await expect(caption).to_have_text("2 appointments found for the phone number typed")
    rows = results.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text(MOVED_CASE)  # the latest first
    await expect(rows.nth(1)).to_contain_text(KEPT_CASE)
    await expect(rows.nth(1)).to_contain_text("Tuesday 15 May 2029, 6pm to 7pm")
    assert "900481" not in page.url
    problems["find-results"] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "find-results-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=SCREENSHOTS / "find-results-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)

    # The kept one's row opens it; its diary lists the move away, with where it went and why.
    await rows.nth(1).get_by_role("link", name="Open").click()
    assert f"/appointments/{kept}?" in page.url
    await page.goto(f"{web.url}/stations/{STATION}/diary?day={FIND_DAY}")
    section = page.locator("section", has=page.get_by_role("heading", name="Moved away from this day"))
    (gone,) = await section.locator("tbody tr").all()
    await expect(gone).to_contain_text("5pm to 6pm")
    await expect(gone).to_contain_text("6pm to 7pm, Wednesday 16 May 2029, Stevenage police station")
    await expect(gone).to_contain_text("The caller asked to move it")
    await expect(gone).to_contain_text(MOVED_CASE)
    # The kept one is still in the day's own table, the moved one not.
    diary = page.locator("table.app-diary").first
    await expect(diary).to_contain_text(KEPT_CASE)
    await expect(diary).not_to_contain_text(MOVED_CASE)
    problems["diary-moved"] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "diary-moved-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    await page.set_viewport_size(DESKTOP)
    # Where it went: the 16th, whose diary has it and nothing moved away.
    await gone.get_by_role("link", name="Stevenage police station").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wednesday 16 May 2029")
    await expect(page.locator("table.app-diary").first).to_contain_text(MOVED_CASE)
    await expect(page.get_by_text("No appointment has been moved away from this day.")).to_be_visible()
    assert {name: found for name, found in problems.items() if found} == {}

    # An officer not assigned to it finds nothing by its case reference (the projections' rule).
    await page.context.clear_cookies()
    await sign_in(page, web, "pc-4188", start="/find")
    await page.get_by_label("Case reference").fill(MOVED_CASE)
    await page.get_by_label("Case reference").focus()
    await send(page)
    await expect(page.get_by_role("heading", name="No appointments found")).to_be_visible()
