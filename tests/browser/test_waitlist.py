"""A call taker puts a caller on the waiting list from the booking pages, in a real browser on the
real services, reads where the entry stands, and records that the caller stopped waiting."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.appointments import ROSTER_STATION, WAITLIST_DAYS
from tests.browser.axe import serious_violations
from tests.browser.conftest import SCREENSHOTS, Site, sign_in


async def test_a_call_taker_puts_a_caller_on_the_waiting_list_and_sees_where_it_stands(
    page: Page, web: Site
) -> None:
    problems: dict[str, list[str]] = {}
    first, last = WAITLIST_DAYS
    await sign_in(page, web, "ct-ana", start=f"/book/stations/{ROSTER_STATION}")
    await page.get_by_role("link", name="No slot suits the caller? Put them on the waiting list").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Put the caller on the waiting list")

    await page.get_by_label("Scheduled").check()
    for box, day in (("The first day that would suit", first), ("The last day that would suit", last)):
        group = page.get_by_role("group", name=box)
        await group.get_by_label("Day").fill(str(day.day))
        await group.get_by_label("Month").fill("June")
        await group.get_by_label("Year").fill(str(day.year))
    problems["start"] = await serious_violations(page)
    await page.get_by_role("button", name="Continue").click()

    await expect(page.locator(".govuk-inset-text")).to_contain_text(
        "A slot at Cheshunt police station, any day from Tuesday 29 June 2027 to Wednesday 30 June 2027"
    )
    await page.get_by_label("Full name").fill("Sam Waiting")
    await page.get_by_label("Phone number (optional)").fill("07700 900456")
    await page.get_by_label("Case reference").fill("41/WAIT/27")
    await page.get_by_label("Summary of the case").fill("Wants to report a fraud in person")
    await page.get_by_label("Low").check()
    await page.locator("#safe_to_text").check()
    await page.locator("#safe_to_call").check()
    await page.get_by_role("button", name="Continue").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the waiting list entry with the caller"
    )
    await expect(page.locator(".govuk-summary-list")).to_contain_text("Sam Waiting")
    await page.get_by_role("button", name="Put on the waiting list").click()

    await expect(page.locator(".govuk-panel__title")).to_have_text("On the waiting list")
    await expect(page.locator("#say")).to_contain_text("If a slot comes free we will hold it for you")
    await expect(page.locator("#state")).to_have_text("Waiting")
    problems["joined"] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "waitlist-joined-desktop.png", full_page=True)

    # The caller rings back: they no longer want to wait.
    await page.get_by_role("link", name="See where it stands now").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Waiting list entry")
    await page.get_by_label("The caller no longer wants to wait").check()
    await page.get_by_role("button", name="Record the answer").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The caller is off the waiting list."
    )
    await expect(page.locator("#state")).to_have_text("Left the list")
    await expect(page.get_by_role("button", name="Record the answer")).to_have_count(0)
    assert {name: found for name, found in problems.items() if found} == {}
