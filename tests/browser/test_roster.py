"""A supervisor runs the roster in a real browser on the real services: puts an officer on a duty,
withdraws another, and sees at once that booking gave the withdrawn officer's appointment to the
colleague, who then shows in the diary by collar number and name (or "name not recorded" for an
officer registered without one), never by id."""

from __future__ import annotations

import asyncio
import time

import httpx
from playwright.async_api import Page, expect

from services.common.auth import Role
from tests.browser.appointments import ROSTER_DAY, ROSTER_STATION, book, wait_in_diary
from tests.browser.axe import serious_violations
from tests.browser.conftest import SCREENSHOTS, Site, sign_in
from tests.support.services import ServiceProcess, auth

# 5pm to 6pm and 5pm to 8pm on Monday 28 June 2027, London (British Summer Time).
FIRST_HOUR = ("2027-06-28T16:00:00Z", "2027-06-28T17:00:00Z")


async def register(roster: ServiceProcess, collar: str, name: str | None = None) -> str:
    """An officer registered at Cheshunt over the roster's API (with a name, or as a client written
    before names registers, without one); their id."""
    named = {"name": name} if name else {}
    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.SUPERVISOR, "ps-api")) as client:
        response = await client.post(
            "/officers", json={"collar_number": collar, "station_id": ROSTER_STATION, **named}
        )
        assert response.status_code == 201, response.text
        officer_id: str = response.json()["officer_id"]
    return officer_id


async def wait_for_slot(booking: ServiceProcess, starts_at: str, wait: float = 60) -> None:
    """Wait until booking offers the Cheshunt slot starting at ``starts_at`` (it has heard the duty)."""
    deadline = time.monotonic() + wait
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        while time.monotonic() < deadline:
            response = await client.get(
                f"/stations/{ROSTER_STATION}/free-slots", params={"from": ROSTER_DAY, "to": ROSTER_DAY}
            )
            if response.status_code == 200 and any(s["starts_at"] == starts_at for s in response.json()):
                return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"booking never offered {starts_at} at {ROSTER_STATION}")


async def test_a_supervisor_withdraws_an_officer_and_sees_the_appointment_reassigned(
    page: Page,
    web: Site,
    roster_service: ServiceProcess,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, projections = booking_and_projections
    first = await register(roster_service, "7101", "Amelia Clarke")
    second = await register(roster_service, "7102")  # no name recorded
    async with httpx.AsyncClient(base_url=roster_service.url, headers=auth(Role.SUPERVISOR)) as client:
        duty = {"duty": "appointments", "station_id": ROSTER_STATION, "starts_at": FIRST_HOUR[0],
                "ends_at": FIRST_HOUR[1]}  # fmt: skip
        assert (await client.post(f"/officers/{first}/duties", json=duty)).status_code == 201
    await wait_for_slot(booking, FIRST_HOUR[0])
    booked = await book(booking, ROSTER_DAY, "17:00", "41/ROSTER/27", station=ROSTER_STATION)
    assert booked["officer_id"] == first  # the only officer on duty at 5pm
    await wait_in_diary(projections, ROSTER_DAY, booked["appointment_id"], station=ROSTER_STATION)
    problems: dict[str, list[str]] = {}

    # The supervisor puts the second officer on appointment duty from 5pm to 8pm, from the pages.
    await sign_in(page, web, "ps-2710", start=f"/roster?day={ROSTER_DAY}&district=broxbourne")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Monday 28 June 2027")
    # Officers by collar number and name: the roster day's rows.
    await expect(page.locator("tr", has_text="Officer 7101 Amelia Clarke")).to_contain_text("5pm to 6pm")
    await page.goto(f"{web.url}/roster/officers/{second}")
    await page.get_by_role("button", name="Put on a duty").click()
    await page.get_by_label("Appointments at a station").check()
    await page.get_by_label("Where?").select_option(label="Cheshunt police station")
    await page.get_by_label("Day", exact=True).fill("28")
    await page.get_by_label("Month").fill("6")
    await page.get_by_label("Year").fill("2027")
    await page.get_by_label("From").fill("17:00")
    await page.get_by_label("Until").fill("20:00")
    problems["assign"] = await serious_violations(page)
    await page.get_by_role("button", name="Put on the duty").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "On duty: Appointments at a station, Cheshunt police station, 5pm to 8pm, Monday 28 June 2027."
    )
    await wait_for_slot(booking, "2027-06-28T17:00:00Z")  # booking has heard of the second officer

    # Then withdraws the first, who holds the 5pm appointment, for court.
    await page.goto(f"{web.url}/roster?day={ROSTER_DAY}&district=broxbourne")
    await page.get_by_role("link", name="Officer 7101 Amelia Clarke").click()
    await page.get_by_role("button", name="Withdraw from appointment duty").click()
    await page.get_by_role("button", name="Withdraw the officer").click()
    summary = page.locator(".govuk-error-summary")
    await expect(summary).to_contain_text("Enter the day")
    await expect(summary).to_contain_text("Select the reason")
    await page.get_by_label("Day", exact=True).fill("28")
    await page.get_by_label("Month").fill("June")
    await page.get_by_label("Year").fill("2027")
    await page.get_by_label("From").fill("17:00")
    await page.get_by_label("Until").fill("18:00")
    await page.get_by_label("At court").check()
    problems["withdraw"] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "roster-withdraw-desktop.png", full_page=True)
    await page.get_by_role("button", name="Withdraw the officer").click()

    # At once: what booking did with the appointment.
    await expect(page.locator(".govuk-panel__title")).to_have_text("Officer 7101 Amelia Clarke withdrawn")
    effect = page.locator(".app-effects__item", has_text="41/ROSTER/27")
    await expect(effect).to_contain_text("Reassigned")
    await expect(effect).to_contain_text("Given to officer 7102 (name not recorded) at the same time.")
    await expect(effect).to_contain_text("5pm to 6pm, Monday 28 June 2027, Cheshunt police station")
    problems["withdrawn"] = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "roster-withdrawn-desktop.png", full_page=True)

    # The diary names the new officer by collar number (no name recorded), and the history says who it
    # went from and to.
    await page.get_by_role("link", name="Cheshunt police station, Monday 28 June 2027").click()
    row = page.locator("tr", has_text="41/ROSTER/27")
    deadline = time.monotonic() + 30
    while "7102" not in await row.inner_text() and time.monotonic() < deadline:
        await page.reload()
    await expect(row).to_contain_text("Officer: 7102 (name not recorded)")
    # Who is on duty there that day, as the roster has it now: the withdrawn officer has no time left.
    on_duty = page.locator("section", has=page.locator("#on-duty"))
    await expect(on_duty).to_contain_text("Officer 7101 Amelia Clarke, 5pm to 6pm")
    await expect(on_duty).to_contain_text("Withdrawn 5pm to 6pm: court. Available none of it.")
    await expect(on_duty).to_contain_text("Officer 7102 (name not recorded), 5pm to 8pm")
    shown = await page.locator("body").inner_text()  # ids stay in links, never in what is read
    assert second not in shown and first not in shown
    await row.get_by_role("link", name="Open").click()
    await expect(page.locator(".app-timeline")).to_contain_text(
        "From officer 7101 Amelia Clarke to officer 7102 (name not recorded)"
    )
    assert {name: found for name, found in problems.items() if found} == {}


async def test_a_supervisor_ends_a_duty_early_and_sees_the_appointment_moved_with_the_caller_to_be_told(
    page: Page,
    web: Site,
    roster_service: ServiceProcess,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, projections = booking_and_projections
    station = "borehamwood"  # the blanket roster leaves it alone; no other test books it in June
    async with httpx.AsyncClient(base_url=roster_service.url, headers=auth(Role.SUPERVISOR)) as client:
        officer = await client.post(
            "/officers", json={"collar_number": "7103", "station_id": station, "name": "Ben Hughes"}
        )
        assert officer.status_code == 201, officer.text
        officer_id = officer.json()["officer_id"]
        duty = await client.post(
            f"/officers/{officer_id}/duties",
            json={"duty": "appointments", "station_id": station, "starts_at": "2027-06-28T16:00:00Z",
                  "ends_at": "2027-06-28T19:00:00Z"},
        )  # fmt: skip
        assert duty.status_code == 201, duty.text
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        while time.monotonic() < deadline:
            free = await client.get(
                f"/stations/{station}/free-slots", params={"from": ROSTER_DAY, "to": ROSTER_DAY}
            )
            if free.status_code == 200 and free.json():
                break
            await asyncio.sleep(0.2)
    booked = await book(booking, ROSTER_DAY, "19:00", "41/ENDED/27", station=station)
    await wait_in_diary(projections, ROSTER_DAY, booked["appointment_id"], station=station)

    await sign_in(page, web, "ps-2710", start=f"/roster/officers/{officer_id}")
    await page.get_by_role("link", name="End the duty 5pm to 8pm, Monday 28 June 2027").click()
    await page.get_by_label("End at (optional)").fill("18:00")
    await page.get_by_label("Sickness").check()
    await page.get_by_role("button", name="End the duty").click()

    await expect(page.locator(".govuk-panel__title")).to_have_text("Officer 7103 Ben Hughes's duty ended")
    effect = page.locator(".app-effects__item", has_text="41/ENDED/27")
    await expect(effect).to_contain_text("7pm to 8pm, Monday 28 June 2027, Borehamwood police station")
    await expect(effect).to_contain_text("Rescheduled")
    await expect(effect).to_contain_text("The caller is to be told.")
    assert await serious_violations(page) == []


async def test_a_supervisor_registers_an_officer_with_their_name_and_sees_it_beside_the_collar_number(
    page: Page, web: Site, roster_service: ServiceProcess
) -> None:
    await sign_in(page, web, "ps-2710", start="/roster/officers/new")
    await page.get_by_label("Collar number").fill("7104")
    await page.get_by_label("Home station").select_option(label="Cheshunt police station")
    await page.get_by_role("button", name="Register the officer").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the officer's name")

    await page.get_by_label("Name", exact=True).fill("  Grace   Okafor ")
    problems = await serious_violations(page)
    await page.get_by_role("button", name="Register the officer").click()

    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Registered.")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Officer 7104 Grace Okafor")
    async with httpx.AsyncClient(base_url=roster_service.url, headers=auth(Role.SUPERVISOR)) as client:
        listed = (await client.get("/officers", params={"station_id": ROSTER_STATION})).json()
    assert [o["name"] for o in listed if o["collar_number"] == "7104"] == ["Grace Okafor"]
    assert problems == []
