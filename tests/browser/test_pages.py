"""The pages in a real browser, on the real services: who may sign in and see what, and that every
page is accessible (axe-core) at desktop and phone width; the run leaves screenshots for the README."""

from __future__ import annotations

import itertools

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from services.common.auth import Role
from tests.browser.appointments import AXE_DAY, STATION, book, wait_in_diary
from tests.browser.axe import serious_violations
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, Site, sign_in
from tests.support.services import ServiceProcess, auth


async def test_an_anonymous_visitor_is_sent_to_sign_in_and_sees_nothing(page: Page, web: Site) -> None:
    for wanted in (f"/stations/{STATION}/diary?day={AXE_DAY}", "/", "/appointments/anything"):
        await page.goto(web.url + wanted)

        assert page.url.startswith(web.url + "/sign-in?next=")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        await expect(page.locator("table")).to_have_count(0)
        await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # The statements are open to anyone.
    await page.goto(web.url + "/privacy")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")


# Each role: who signs in, the name the header shows, a page it may see, and one it may not.
ROLES = [
    ("ct-ana", "Ana Call-Taker (call-taker)", f"/stations/{STATION}/free-slots", None),
    ("pc-4021", "PC 4021 Priya Officer (officer)", f"/stations/{STATION}/diary", "/appointments/x-1"),
    ("ps-2710", "PS 2710 Sam Supervisor (supervisor)", f"/stations/{STATION}/free-slots", None),
    ("au-lee", "Lee Auditor (auditor)", f"/stations/{STATION}/diary", f"/stations/{STATION}/free-slots"),
    ("ad-kim", "Kim Admin (admin)", f"/stations/{STATION}/free-slots", None),
]


@pytest.mark.parametrize(("username", "shown", "allowed", "refused"), ROLES)
async def test_each_role_signs_in_and_sees_what_its_role_may(
    page: Page, web: Site, username: str, shown: str, allowed: str, refused: str | None
) -> None:
    await sign_in(page, web, username, start=allowed)

    assert page.url == web.url + allowed  # back to the page asked for
    await expect(page.get_by_text(shown)).to_be_visible()
    await expect(page.get_by_role("heading", name="You cannot see this")).to_have_count(0)
    if refused is not None:
        await page.goto(web.url + refused)
        await expect(page.get_by_role("heading", name="You cannot see this")).to_be_visible()
    await page.goto(web.url + "/appointments/x-1")
    if username == "ct-ana":  # may move or cancel an appointment, but not read its history
        await expect(page.get_by_text("Your role cannot read an appointment's history")).to_be_visible()
    await page.goto(web.url + f"/book/stations/{STATION}")
    can_book = username in ("ct-ana", "ps-2710", "ad-kim")
    await expect(page.get_by_role("heading", name="You cannot book appointments")).to_have_count(
        0 if can_book else 1
    )

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await page.goto(web.url + allowed)
    assert page.url.startswith(web.url + "/sign-in")


async def test_a_wrong_password_is_an_error_summary_linked_to_the_field(page: Page, web: Site) -> None:
    await page.goto(web.url + "/sign-in")
    await page.get_by_label("User name").fill("ps-2710")
    await page.get_by_label("Password", exact=True).fill("not the password")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    summary = page.locator(".govuk-error-summary")
    await expect(summary).to_be_focused()  # GOV.UK Frontend's script moves focus to it
    await expect(summary).to_contain_text("The user name or the password is not right.")
    assert (await page.title()).startswith("Error: ")


async def rostered_officer(roster: ServiceProcess) -> tuple[str, str]:
    """An officer on appointment duty at the station on the axe day (booked before they were): their id
    and the duty's, so the diary and the roster pages show someone on duty."""
    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.SUPERVISOR, "ps-api")) as client:
        officer = await client.post("/officers", json={"collar_number": "7199", "station_id": STATION})
        assert officer.status_code == 201, officer.text
        officer_id = officer.json()["officer_id"]
        duty = await client.post(
            f"/officers/{officer_id}/duties",
            json={"duty": "appointments", "station_id": STATION,
                  "starts_at": f"{AXE_DAY}T16:00:00Z", "ends_at": f"{AXE_DAY}T19:00:00Z"},
        )  # fmt: skip
        assert duty.status_code == 201, duty.text
    return officer_id, duty.json()["duty_id"]


async def test_no_page_has_a_serious_or_critical_accessibility_problem_at_desktop_or_phone_width(
    browser: Browser,
    web: Site,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    roster_service: ServiceProcess,
) -> None:
    booking, projections = booking_and_projections
    booked = await book(booking, AXE_DAY, "18:00", "41/AXE/27")
    await wait_in_diary(projections, AXE_DAY, booked["appointment_id"])
    officer_id, duty_id = await rostered_officer(roster_service)
    officer = f"/roster/officers/{officer_id}"
    slot = f"station|{STATION}|{AXE_DAY}|18:00"
    pages = {
        "sign-in": "/sign-in",
        "county": "/",
        "diary": f"/stations/{STATION}/diary?day={AXE_DAY}",
        "diary-error": f"/stations/{STATION}/diary?day={AXE_DAY}&at-day=30&at-month=2&at-year=2027"
        "&at_time=17:00",
        "free-slots": f"/stations/{STATION}/free-slots?from={AXE_DAY}&to={AXE_DAY}",
        "history": f"/appointments/{booked['appointment_id']}",
        "book-slot": f"/book/stations/{STATION}?from-day=24&from-month=6&from-year=2027",
        "book-details": f"/book/details?slot=station|{STATION}|{AXE_DAY}|17:00&grade=scheduled",
        "book-earliest": "/book/districts/stevenage?from-day=24&from-month=6&from-year=2027",
        "attendance": f"/appointments/{booked['appointment_id']}/attendance?slot={slot}",
        "waitlist-start": f"/book/waitlist/stations/{STATION}",
        "roster-day": f"/roster?day={AXE_DAY}&district=stevenage",
        "roster-week": f"/roster/week?district=stevenage&from={AXE_DAY}",
        "roster-officer": officer,
        "roster-register": "/roster/officers/new",
        "roster-assign": f"{officer}/duties",
        "roster-withdraw": f"{officer}/withdraw",
        "roster-end": f"{officer}/duties/{duty_id}/end",
        # The day of the station's blanket officer (the axe day's booking is theirs), with its briefing.
        "officer-day": f"/officers/officer-{STATION}/days/{AXE_DAY}",
        "figures": "/figures",
        "find": "/find",
        "figures-error": "/figures?from-day=31&from-month=2&from-year=2027",
        "not-found": "/no/such/page",
        "accessibility": "/accessibility",
        "privacy": "/privacy",
    }
    # The access log is the auditors' alone.
    auditors = {"access-log": "/access-log?subject=&from-day=1&from-month=1&from-year=2026"}
    found: dict[str, list[str]] = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for (width, viewport), (person, shown) in itertools.product(
        (("desktop", DESKTOP), ("phone", PHONE)), (("ps-2710", pages), ("au-lee", auditors))
    ):
        context = await browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/London")
        page = await context.new_page()
        await sign_in(page, web, person)  # a supervisor may open every one of the first pages
        for name, path in shown.items():
            await page.goto(web.url + path)
            await expect(page.locator("h1")).to_be_visible()
            found[f"{name} ({width})"] = await serious_violations(page)
            # Nothing is wider than the screen: no sideways scrolling at 390 px.
            scroll_width = await page.evaluate("() => document.documentElement.scrollWidth")
            assert scroll_width <= viewport["width"], f"{name} is {scroll_width}px wide at {width} width"
            await page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
        await context.close()

    assert {page: problems for page, problems in found.items() if problems} == {}
    assert len(found) == 2 * (len(pages) + len(auditors))


async def test_axe_finds_a_serious_problem_when_there_is_one(page: Page) -> None:
    """The check above would pass on a broken axe; here it must find a missing label and a missing alt."""
    await page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>x</h1>'
        '<img src="data:,"><input type="text"></main></body></html>'
    )
    found = "\n".join(await serious_violations(page))
    assert "critical: image-alt" in found and "critical: label" in found
