"""An officer opens an appointment from the diary and records what happened, in a real browser on the
real services: booking records it only once the appointment has begun, and the page says so in its
words (the test's appointments are all in the future, and booking keeps the real clock)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.appointments import ATTENDANCE_DAY, STATION, book, wait_in_diary
from tests.browser.axe import serious_violations
from tests.browser.conftest import SCREENSHOTS, Site, sign_in
from tests.support.services import ServiceProcess


async def test_an_officer_records_what_happened_from_the_diary_and_booking_answers_in_words(
    page: Page, web: Site, booking_and_projections: tuple[ServiceProcess, ServiceProcess]
) -> None:
    booking, projections = booking_and_projections
    booked = await book(booking, ATTENDANCE_DAY, "17:00", "41/ATTEND/27")
    await wait_in_diary(projections, ATTENDANCE_DAY, booked["appointment_id"])
    await sign_in(page, web, "pc-4021", start=f"/stations/{STATION}/diary?day={ATTENDANCE_DAY}")

    await page.locator("tr", has_text="41/ATTEND/27").get_by_role("link", name="Open").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sunday 27 June 2027 at 5pm, Stevenage police station"
    )
    await expect(page.get_by_role("button", name="Move it")).to_have_count(0)  # an officer does not book
    await page.get_by_role("button", name="Record what happened").click()

    await page.get_by_role("button", name="Record it").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Select what happened")
    await page.get_by_label("The meeting took place").check()
    await page.get_by_label("Advice was given").check()
    problems = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "attendance-desktop.png", full_page=True)
    await page.get_by_role("button", name="Record it").click()

    # Booking refuses to record an appointment that has not begun, and the form says why.
    summary = page.locator(".govuk-error-summary")
    await expect(summary).to_contain_text("begun")
    await expect(page.get_by_label("Advice was given")).to_be_checked()  # what was chosen is kept
    assert problems == []
