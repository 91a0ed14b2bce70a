"""A call taker books from the pages in a real browser, on the real services: by the keyboard
alone, in three steps from the county page, and a lost race that offers the nearest slots at once."""

from __future__ import annotations

import time

from playwright.async_api import Page, expect

from tests.browser.appointments import BOOKING_DAY, RACE_DAY, STATION, book
from tests.browser.axe import serious_violations
from tests.browser.conftest import SCREENSHOTS, Site, sign_in
from tests.support.services import ServiceProcess


async def tab_to(page: Page, selector: str, most: int = 400) -> None:
    """Press Tab until the element ``selector`` names has the focus (as a keyboard user moves)."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def press_and_wait(page: Page, key: str) -> None:
    """Press a key that sends a form or follows a link, and wait for the next page."""
    async with page.expect_navigation():
        await page.keyboard.press(key)


async def check_and_keep(page: Page, name: str, problems: dict[str, list[str]]) -> None:
    """axe-core on the page as it is, and its screenshot for the README."""
    problems[name] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)


async def test_a_call_taker_books_a_slot_by_the_keyboard_alone_and_it_shows_in_the_diary(
    page: Page, web: Site
) -> None:
    problems: dict[str, list[str]] = {}
    # Signing in: the user name has the focus as the page opens.
    await page.goto(web.url + "/")
    await page.keyboard.type("ct-ana")
    await page.keyboard.press("Tab")
    await page.keyboard.type(web.passwords["ct-ana"])
    await press_and_wait(page, "Enter")
    await expect(page.get_by_text("Ana Call-Taker (call-taker)")).to_be_visible()

    # From the county page to step 1 at the station, then its free slots from the booking day.
    await tab_to(page, f'a[href="/book/stations/{STATION}"]')
    await press_and_wait(page, "Enter")
    year, month, day = BOOKING_DAY.split("-")
    await tab_to(page, "#from-day")
    await page.keyboard.type(day)
    await page.keyboard.press("Tab")
    await page.keyboard.type(month.lstrip("0"))
    await page.keyboard.press("Tab")
    await page.keyboard.type(year)
    await press_and_wait(page, "Enter")
    await check_and_keep(page, "book-1-slot", problems)

    # Step 1: the grade first (scheduled is the first choice), then the earliest slot.
    await tab_to(page, "#grade")
    await page.keyboard.press("Space")
    await tab_to(page, "#slot")
    await page.keyboard.press("Space")
    slot = await page.evaluate("() => document.activeElement.value")
    assert slot == f"station|{STATION}|{BOOKING_DAY}|17:00", slot
    await tab_to(page, 'form[action="/book/slot"] button')
    await press_and_wait(page, "Enter")

    # Step 2: the caller and the briefing.
    await expect(page.get_by_role("heading", level=1)).to_have_text("The caller and the briefing")
    for field, typed in (
        ("#caller_name", "Sam Keyboard"),
        ("#caller_phone", "07700 900456"),
        ("#case_reference", "41/KEY/27"),
        ("#summary", "Wallet taken from a parked car"),
    ):
        await tab_to(page, field)
        await page.keyboard.type(typed)
    await tab_to(page, "#thrive_risk")  # High, Medium, Low: the arrows move and choose
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    for question in ("#safe_to_text", "#safe_to_call"):
        await tab_to(page, question)
        await page.keyboard.press("Space")
    await check_and_keep(page, "book-2-details", problems)
    await tab_to(page, 'form[action="/book/check"] button')
    await press_and_wait(page, "Enter")

    # Step 3: check with the caller, and book.
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check the booking with the caller")
    await expect(page.locator(".govuk-summary-list")).to_contain_text("Low")
    await check_and_keep(page, "book-3-check", problems)
    await tab_to(page, 'button[value="book"]')
    await press_and_wait(page, "Enter")

    # The confirmation, in the words to say on the phone.
    await expect(page.locator(".govuk-panel__title")).to_have_text("Appointment booked")
    say = page.locator("#say")
    await expect(say).to_contain_text(
        "Your appointment is on Wednesday 23 June 2027, from 5pm to 6pm, at Stevenage police station."
    )
    await expect(say).to_contain_text("We will send you a text to confirm this")
    await expect(say).to_contain_text("give your case reference, 41/KEY/27")
    await check_and_keep(page, "book-4-done", problems)

    # The booking shows in the diary (the projections follow booking's events within moments).
    await tab_to(page, f'main a[href="/stations/{STATION}/diary?day={BOOKING_DAY}"]')
    await press_and_wait(page, "Enter")
    row = page.locator("tr", has_text="41/KEY/27")
    deadline = time.monotonic() + 30
    while not await row.count() and time.monotonic() < deadline:
        await page.reload()
    await expect(row).to_contain_text("5pm to 6pm")
    await expect(row).to_contain_text("Booked")
    assert {name: found for name, found in problems.items() if found} == {}


async def test_a_lost_race_offers_the_nearest_free_slots_at_once_and_books_one(
    page: Page, web: Site, booking_and_projections: tuple[ServiceProcess, ServiceProcess]
) -> None:
    booking, _ = booking_and_projections
    await sign_in(
        page, web, "ct-ben", start=f"/book/stations/{STATION}?from-day=22&from-month=6&from-year=2027"
    )
    await page.get_by_label("Scheduled").check()
    await page.locator(f'input[value="station|{STATION}|{RACE_DAY}|19:00"]').check()
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Full name").fill("Robin Race")
    await page.get_by_label("Case reference").fill("41/RACE/27")
    await page.get_by_label("Summary of the case").fill("Shed broken into")
    await page.locator("#thrive_risk-3").check()
    await page.locator("#safe_to_text-2").check()
    await page.locator("#safe_to_call-2").check()
    await page.get_by_role("button", name="Continue").click()
    # Another call taker books the same slot while this one reads it back to the caller.
    await book(booking, RACE_DAY, "19:00", "41/OTHER/27")

    await page.get_by_role("button", name="Book this appointment").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("That slot has just been taken")
    await expect(page.locator(".govuk-error-summary")).to_be_focused()
    nearest = page.locator('input[name="slot"]')
    assert await nearest.count() >= 1
    assert await nearest.first.get_attribute("value") != f"station|{STATION}|{RACE_DAY}|19:00"
    await page.get_by_role("button", name="Book this slot instead").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Appointment booked")
    await expect(page.locator("#say")).to_contain_text("give your case reference, 41/RACE/27")
