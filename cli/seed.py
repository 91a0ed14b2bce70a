"""`appointments seed`: load the county's reviewed reference data into the running booking service.

Booking records the version as CountyReferenceLoaded on booking.events; the roster takes
the county from there, so the roster is seeded only once it holds the very version
booking recorded.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console

from cli.seed_roster import seed_roster
from services.common.auth import Role
from services.common.config import settings
from services.common.london import LONDON
from services.common.reference import COUNTY_FILE, load_county
from services.common.token_keys import local_issuer

console = Console()


def seed(
    file: Path = typer.Option(COUNTY_FILE, help="The reviewed reference data file (TOML)."),
    booking_url: str = typer.Option("", help="Booking's base URL (default: the local stack's)."),
    roster_url: str = typer.Option("", help="Roster's base URL (default: the local stack's)."),
    roster_days: int = typer.Option(14, help="Days of (invented, plausible) roster to seed from today."),
    roster_wait: float = typer.Option(120.0, help="Seconds to wait for the roster to take the county."),
) -> None:
    """Load the county's reference data into booking, and a plausible roster into roster."""
    try:
        county = load_county(file)
    except (ValidationError, ValueError, OSError) as exc:
        console.print(f"[red]{file} is not valid reference data:[/red]\n{exc}")
        raise typer.Exit(2) from exc
    url = booking_url or f"http://127.0.0.1:{settings().port('booking')}"
    token = local_issuer().token(Role.ADMIN, "seed")
    try:
        response = httpx.put(
            f"{url}/reference/county",
            content=county.model_dump_json(),
            headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        console.print(f"[red]booking at {url} does not answer ({exc}); is the stack up (make run)?[/red]")
        raise typer.Exit(1) from exc
    if response.status_code != 200:
        console.print(f"[red]booking refused the data: {response.status_code}[/red] {response.text}")
        raise typer.Exit(1)
    body = response.json()
    stations = len(county.appointment_stations())
    state = "loaded as a new version" if body["changed"] else "already in force (unchanged)"
    console.print(
        f"{county.name}: {len(county.districts)} districts, {stations} appointment stations, "
        f"{len(county.districts)} diary cars: {state} (sha256 {body['sha256'][:12]})"
    )
    if roster_days <= 0:
        return
    roster = roster_url or f"http://127.0.0.1:{settings().port('roster')}"
    supervisor = local_issuer().token(Role.SUPERVISOR, "seed")
    try:
        if wait_for_roster_county(roster, supervisor, body["sha256"], roster_wait):
            console.print(f"Roster: took county version {body['sha256'][:12]} from booking.events.")
        today = datetime.now(UTC).astimezone(LONDON).date()
        added = seed_roster(roster, supervisor, today, roster_days, county)
    except (httpx.HTTPError, RuntimeError) as exc:
        console.print(f"[red]roster at {roster} refused or did not answer: {exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Roster: {roster_days} days from today seeded ({added} new records; invented officers).")


def wait_for_roster_county(roster_url: str, token: str, sha256: str, wait_seconds: float) -> bool:
    """Wait until the roster holds the county version booking recorded; RuntimeError after the wait.

    False when the roster predates taking the county from booking (it has no such endpoint).
    """
    deadline = time.monotonic() + wait_seconds
    held = "nothing yet"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=roster_url, headers=headers, timeout=10) as client:
        while True:
            try:
                response = client.get("/reference/county")
            except httpx.TransportError:
                response = None  # still starting: not listening yet
            if response is not None and response.status_code == 404:
                return False  # an older roster reads the county itself: nothing to wait for
            if response is not None and response.status_code == 200:
                held = f"version {response.json()['sha256'][:12]}"
                if response.json()["sha256"] == sha256:
                    return True
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"it has not taken county version {sha256[:12]} from booking.events within"
                    f" {wait_seconds:.0f}s (it holds {held}); is its roster-county consumer running?"
                )
            time.sleep(0.5)
