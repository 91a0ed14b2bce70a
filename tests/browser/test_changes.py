"""A call taker moves and then cancels an appointment from its page, in a real browser on the real
services, choosing booking's reason codes; the diary follows each change."""

from __future__ import annotations

import time

from playwright.async_api import Locator, Page, expect

from tests.browser.appointments import CHANGE_DAY, STATION, book, wait_in_diary
from tests.browser.axe import serious_violations
from tests.browser.conftest import SCREENSHOTS, Site, sign_in
from tests.support.services import ServiceProcess


async def row_when_shown(page: Page, case_reference: str, status: str) -> Locator:
    """The diary's row of a case once it shows ``status`` (the projections follow within moments)."""
    row = page.locator("tr", has_text=case_reference)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if await row.count() and status in await row.inner_text():
            break
        await page.reload()
    return row


async def test_a_call_taker_moves_then_cancels_an_appointment_with_reason_codes(
    page: Page, web: Site, booking_and_projections: tuple[ServiceProcess, ServiceProcess]
) -> None:
    booking, projections = booking_and_projections
    booked = await book(booking, CHANGE_DAY, "17:00", "41/MOVE/27")
    await wait_in_diary(projections, CHANGE_DAY, booked["appointment_id"])
    problems: dict[str, list[str]] = {}
    await sign_in(page, web, "ct-ana", start=f"/stations/{STATION}/diary?day={CHANGE_DAY}")

    # The diary's row opens the appointment's page: a call taker may not read its history, but may move it.
    await page.locator("tr", has_text="41/MOVE/27").get_by_role("link", name="Open").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Monday 21 June 2027 at 5pm, Stevenage police station"
    )
    await page.get_by_role("button", name="Move it").click()
    await page.get_by_label("6pm to 7pm, Monday 21 June 2027").check()
    await page.get_by_label("The caller", exact=True).check()
    await page.get_by_label("The caller asked to move it").check()
    problems["move"] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "change-move-desktop.png", full_page=True)
    await page.get_by_role("button", name="Move the appointment").click()

    await expect(page.locator(".govuk-panel__title")).to_have_text("Appointment moved")
    await expect(page.locator("#say")).to_contain_text(
        "Your appointment has moved to Monday 21 June 2027 at 6pm, Stevenage police station."
    )
    await page.get_by_role("link", name="See the diary").click()
    moved = await row_when_shown(page, "41/MOVE/27", "6pm to 7pm")
    await expect(moved).to_contain_text("6pm to 7pm")

    # Then the caller rings back to cancel it.
    await moved.get_by_role("link", name="Open").click()
    await page.get_by_role("button", name="Cancel it").click()
    await page.get_by_role("button", name="Cancel the appointment").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Select who asked for the change")
    await page.get_by_label("The caller", exact=True).check()
    await page.get_by_label("The caller no longer needs it").check()
    problems["cancel"] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "change-cancel-desktop.png", full_page=True)
    await page.get_by_role("button", name="Cancel the appointment").click()

    await expect(page.locator(".govuk-panel__title")).to_have_text("Appointment cancelled")
    await expect(page.locator("#say")).to_contain_text(
        "Your appointment on Monday 21 June 2027 has been cancelled."
    )
    await page.get_by_role("link", name="See the diary").click()
    cancelled = await row_when_shown(page, "41/MOVE/27", "Cancelled")
    await expect(cancelled).to_contain_text("Cancelled")
    assert {name: found for name, found in problems.items() if found} == {}

    # A supervisor reads the history: the move and the cancellation, each with its reason in words.
    await page.context.clear_cookies()
    await sign_in(page, web, "ps-2710", start=f"/appointments/{booked['appointment_id']}")
    timeline = page.locator(".app-timeline")
    await expect(timeline).to_contain_text("Moved to a new time")
    await expect(timeline).to_contain_text("Reason: no longer needed")
    await expect(page.get_by_role("button", name="Cancel it")).to_have_count(0)
