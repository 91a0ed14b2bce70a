"""Browser fixtures: the pages and the services as real processes on the real Kafka and PostgreSQL,
driven by Debian's Chromium through Playwright (Playwright's own browser download is not reachable).

The integration fixtures (this run's topics and databases, booking and projections with the
county seeded and rostered) are reused as they are; the pages run beside them as `python -m web`
with a state folder of their own (its users and passwords), but the services' token keys, so
the token each signed-in person's pages call with is one the services trust.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from services.common.config import Settings
from tests.integration.conftest import booking_and_projections, run_id, test_settings
from tests.support.services import ServiceProcess, seed_county, service, wait_for_roster_county

__all__ = ["booking_and_projections", "run_id", "test_settings"]

CHROMIUM = "/usr/bin/chromium"
BROWSER_TESTS = Path(__file__).parent
# Where the run writes the screenshots the README shows.
SCREENSHOTS = BROWSER_TESTS.parents[1] / "docs" / "screenshots"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser as `browser` (and `integration`: it needs the servers)."""
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.integration)


@dataclass(frozen=True)
class Site:
    """The pages as a browser reaches them, and the local people's passwords."""

    url: str
    passwords: dict[str, str]


@pytest.fixture(scope="session")
async def roster_service(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The roster service as a real process on this run's topics (booking hears its roster.events)."""
    booking, _ = booking_and_projections
    process = await service("roster", tmp_path_factory.mktemp("roster-logs")).start()
    await wait_for_roster_county(process, await seed_county(booking))
    yield process
    process.stop()


@pytest.fixture(scope="session")
async def web(
    test_settings: Settings,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    roster_service: ServiceProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Site]:
    """The pages as their own process, calling this run's booking, projections and roster services."""
    booking, projections = booking_and_projections
    state = tmp_path_factory.mktemp("web-state")
    pages = await service(
        "web",
        tmp_path_factory.mktemp("web-logs"),
        APPOINTMENTS_STATE_DIR=str(state),
        APPOINTMENTS_TOKEN_KEYS_DIR=str(test_settings.token_keys),
        APPOINTMENTS_BOOKING_URL=booking.url,
        APPOINTMENTS_PROJECTIONS_URL=projections.url,
        APPOINTMENTS_ROSTER_URL=roster_service.url,
    ).start()
    # The pages make their local users as they start, and keep the passwords for whoever runs them.
    lines = (state / "web-passwords.txt").read_text().splitlines()
    passwords = {user: password for user, _, password in (line.split("\t") for line in lines)}
    yield Site(pages.url, passwords)
    pages.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, for the whole run."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) and a page at desktop width."""
    context = await browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    tab = await context.new_page()
    yield tab
    await context.close()


async def sign_in(page: Page, site: Site, username: str, start: str = "/") -> None:
    """Sign in from the sign-in page, by the keyboard, as a person would."""
    await page.goto(site.url + start)
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password", exact=True).fill(site.passwords[username])
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
