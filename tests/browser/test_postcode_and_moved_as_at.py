"""Issue 11's last two pieces in a real browser on the real services: a call taker finds the place
by the caller's postcode (the ONSPD-shaped test directory loaded as an operator loads it), and
the diary as it stood lists what had been moved away from the day by then.

Officer 7311 is the only one on appointment duty at Rickmansworth on 15 and 16 October 2030 (this
test's days); one appointment there is moved by the police from the 15th to the 16th.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
from playwright.async_api import Page, expect

from services.common.auth import Role
from tests.browser.appointments import book, moved_away_listed, on_station_duty, wait_in_diary
from tests.browser.axe import serious_violations
from tests.browser.conftest import DESKTOP, PHONE, Site, sign_in
from tests.integration.test_postcodes import NAMES, ONSPD, load
from tests.support.services import ServiceProcess, auth

STATION = "rickmansworth"
DAY, MOVED_TO = "2030-10-15", "2030-10-16"
CASE = "41/RICK/30"


async def send(page: Page) -> None:
    """Press Enter in a form, and wait for the next page."""
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def look_up(page: Page, postcode: str) -> None:
    """Type a postcode in the county page's box, by the keyboard, and send it."""
    box = page.get_by_label("Find the place by the caller's postcode")
    await box.fill("")
    await box.focus()
    await page.keyboard.type(postcode)
    await send(page)


async def test_a_call_taker_finds_the_district_s_diary_car_and_stations_by_the_caller_s_postcode(
    page: Page, web: Site
) -> None:
    code, said = await load(ONSPD, NAMES)
    assert code == 0, said
    await sign_in(page, web, "ct-ben")

    await look_up(page, "sg14 1aa")
    result = page.locator("#postcode-result")
    await expect(result.get_by_role("heading", level=2)).to_have_text("SG14 1AA is in East Hertfordshire")
    await expect(result).to_contain_text("Home visits there are made by the East Hertfordshire diary car")
    rows = result.locator("tbody tr")
    await expect(rows).to_have_count(3)  # the diary car, Bishop's Stortford and Hertford
    await expect(rows.nth(0)).to_contain_text("East Hertfordshire diary car")
    await expect(rows.nth(1)).to_contain_text("Bishop's Stortford police station")
    await expect(rows.nth(2)).to_contain_text("Hertford police station")
    await expect(result).to_contain_text("No appointment room at Buntingford.")
    await expect(page.locator(".govuk-error-summary")).to_have_count(0)
    assert await serious_violations(page) == []
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    await page.set_viewport_size(DESKTOP)

    # From there, by the keyboard, to booking a home visit by that district's diary car.
    await rows.nth(0).get_by_role("link", name="Book a visit").focus()
    await send(page)
    assert page.url.endswith("/book/diary-cars/east-hertfordshire")
    await page.goto(web.url + "/")

    # A terminated postcode, and one that is not a postcode: GOV.UK errors on the box.
    await look_up(page, "AL1 9ZZ")
    summary = page.locator(".govuk-error-summary")
    await expect(summary).to_contain_text("AL1 9ZZ was terminated in June 2019")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#postcode")
    await expect(page.get_by_label("Find the place by the caller's postcode")).to_have_value("AL1 9ZZ")
    assert await serious_violations(page) == []
    await look_up(page, "not one")
    await expect(summary).to_contain_text("Enter a real postcode, like AL1 3JX")
    await look_up(page, "SW1A 2AA")
    await expect(summary).to_contain_text("SW1A 2AA is not a postcode of Hertfordshire's districts")


async def test_the_diary_as_it_stood_lists_what_had_moved_away_by_then(
    page: Page,
    web: Site,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    roster_service: ServiceProcess,
) -> None:
    booking, projections = booking_and_projections
    await on_station_duty(roster_service, booking, "7311", STATION, (DAY, MOVED_TO))
    appointment_id = (await book(booking, DAY, "17:00", CASE, station=STATION))["appointment_id"]
    await wait_in_diary(projections, DAY, appointment_id, station=STATION)
    before_move = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-api")) as client:
        body = {"day": MOVED_TO, "start": "18:00", "initiated_by": "police", "reason": "room-unavailable"}
        moved = await client.post(f"/appointments/{appointment_id}/reschedule", json=body)
    assert moved.status_code == 200, moved.text
    await moved_away_listed(projections, STATION, DAY, appointment_id)
    after_move = datetime.now(UTC)

    def as_at(instant: datetime) -> str:
        return f"{web.url}/stations/{STATION}/diary?{urlencode({'day': DAY, 'at': instant.isoformat()})}"

    await sign_in(page, web, "ps-2710", start=f"/stations/{STATION}/diary?day={DAY}")
    section = page.locator(
        "section", has=page.get_by_role("heading", name="Moved away from this day by then")
    )
    # Before the move: it was in the day's own table, and nothing had moved away.
    await page.goto(as_at(before_move))
    await expect(page.locator("table.app-diary").first).to_contain_text(CASE)
    await expect(section).to_contain_text("No appointment had been moved away from this day by then.")
    # After it: gone from the day's table, listed as moved away, where it then was and why.
    await page.goto(as_at(after_move))
    await expect(page.get_by_text("Showing the diary as it stood at")).to_be_visible()
    (gone,) = await section.locator("tbody tr").all()
    await expect(gone).to_contain_text("5pm to 6pm")
    await expect(gone).to_contain_text("6pm to 7pm, Wednesday 16 October 2030, Rickmansworth police station")
    await expect(gone).to_contain_text("Moved by the police: the room was not available")
    await expect(gone).to_contain_text("Caller still to be told")
    await expect(page.locator("table.app-diary.app-moved")).to_contain_text(CASE)
    assert await serious_violations(page) == []
    # Its link opens the 16th as it stood at the same moment, holding it.
    await gone.get_by_role("link", name="Rickmansworth police station").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wednesday 16 October 2030")
    await expect(page.get_by_text("Showing the diary as it stood at")).to_be_visible()
    await expect(page.locator("table.app-diary").first).to_contain_text(CASE)
