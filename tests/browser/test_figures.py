"""The figures page in a real browser on the real services: a supervisor books three appointments in a
week nobody else books in Hertsmere, cancels one for the police and one for the public, and reads
those counts in the week's table, chart and CSV."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import httpx
from playwright.async_api import Page, expect

from services.common.auth import Role
from tests.browser.appointments import FIGURES_DAY, FIGURES_STATION, book, on_duty, wait_for_free
from tests.browser.axe import serious_violations
from tests.browser.conftest import SCREENSHOTS, Site, sign_in
from tests.support.services import ServiceProcess, auth

DISTRICT = "hertsmere"  # Borehamwood's district


async def kpis_show(projections: ServiceProcess, booked: int, cancelled: int, wait: float = 60) -> None:
    """Wait until the projections' KPIs for the figures week count what the test did."""
    deadline = time.monotonic() + wait
    params = {"district": DISTRICT, "from": FIGURES_DAY, "to": FIGURES_DAY}
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        while time.monotonic() < deadline:
            answer = await client.get("/kpis", params=params)
            if answer.status_code == 200:
                [week] = [r for r in answer.json()["rows"] if r["period"] == "week"]
                if (
                    week["booked"] == booked
                    and week["cancelled_by_police"] + week["cancelled_by_public"] == cancelled
                ):
                    return
            await asyncio.sleep(0.3)
    raise TimeoutError("the KPIs never counted the figures test's appointments")


async def test_a_supervisor_reads_the_counts_of_a_week_on_the_figures_page_and_downloads_them(
    page: Page,
    web: Site,
    roster_service: ServiceProcess,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, projections = booking_and_projections
    # 5pm to 8pm at Borehamwood (British Summer Time): three slots, the week's only ones in Hertsmere.
    await on_duty(roster_service, "7401", FIGURES_STATION, [
        {"duty": "appointments", "station_id": FIGURES_STATION, "starts_at": f"{FIGURES_DAY}T16:00:00Z",
         "ends_at": f"{FIGURES_DAY}T19:00:00Z"},
    ])  # fmt: skip
    await wait_for_free(booking, f"/stations/{FIGURES_STATION}/free-slots", FIGURES_DAY, 3)
    ids = [
        (await book(booking, FIGURES_DAY, start, f"41/FIG{n}/27", station=FIGURES_STATION))["appointment_id"]
        for n, start in enumerate(("17:00", "18:00", "19:00"))
    ]
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-api")) as client:
        for appointment_id, by, reason in (
            (ids[1], "police", "station-closed"),
            (ids[2], "public", "no-longer-needed"),
        ):
            answer = await client.post(
                f"/appointments/{appointment_id}/cancel", json={"initiated_by": by, "reason": reason}
            )
            assert answer.status_code == 200, answer.text
    await kpis_show(projections, booked=3, cancelled=2)
    week = date.fromisoformat(FIGURES_DAY).isocalendar().week

    await sign_in(page, web, "ps-2710")
    await page.get_by_role("link", name="Figures").click()
    await page.get_by_label("District", exact=True).select_option(label="Hertsmere")
    await page.get_by_label("Day", exact=True).first.fill("16")
    await page.get_by_label("Month", exact=True).first.fill("August")
    await page.get_by_label("Year", exact=True).first.fill("2027")
    await page.get_by_label("Day", exact=True).nth(1).fill("22")
    await page.get_by_label("Month", exact=True).nth(1).fill("8")
    await page.get_by_label("Year", exact=True).nth(1).fill("2027")
    await page.get_by_role("button", name="Show the figures").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Figures")
    row = page.locator("table", has_text="Figures by week").locator("tbody tr")
    await expect(row).to_have_count(1)
    cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
    # Booked, held at the booked time, attended, cancelled by police, by the public, missed, satisfaction,
    # and use of capacity: the three slots officer 7401 was on duty for, one still booked.
    assert cells == ["3", "0 (0%)", "0", "1 (33%)", "1 (33%)", "0", "No scores", "1 of 3 (33%)"]
    await expect(row.locator("th")).to_contain_text(f"W{week}")
    chart = page.locator("svg").first
    await expect(chart.locator("title", has_text=f"W{week}: Booked 3")).to_have_count(1)
    await expect(chart.locator("title", has_text=f"W{week}: Cancelled by the police 1")).to_have_count(1)
    capacity = page.locator("figure", has_text="Appointment places offered and used, by week").locator("svg")
    await expect(capacity.locator("title", has_text=f"W{week}: Places offered 3")).to_have_count(1)
    await expect(capacity.locator("title", has_text=f"W{week}: Places used 1")).to_have_count(1)
    problems = await serious_violations(page)
    await page.screenshot(path=SCREENSHOTS / "figures-week-desktop.png", full_page=True)

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download these figures as a spreadsheet (CSV)").click()
    download = await download_info.value
    lines = (await download.path()).read_text().splitlines()
    header = lines[0].split(",")
    weekly = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    [counted] = [w for w in weekly if w["period"] == "week"]
    assert (counted["booked"], counted["cancelled_by_police"], counted["cancelled_by_public"]) == (
        "3",
        "1",
        "1",
    )
    assert (counted["capacity_offered"], counted["capacity_used"], counted["capacity_use"]) == (
        "3",
        "1",
        "0.33",
    )
    assert problems == []
