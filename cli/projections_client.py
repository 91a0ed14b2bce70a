"""The projections service over HTTP for the audit commands, with a local token (or one given)."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

import httpx
import typer
from rich.console import Console

from cli.operator import stack_settings
from services.common.auth import Role
from services.common.london import LONDON
from services.common.token_keys import local_issuer

console = Console()

URL = typer.Option("", "--url", help="The projections service's base URL (default: the local stack's).")
TOKEN = typer.Option(
    "", "--token", envvar="APPOINTMENTS_TOKEN",
    help="A bearer token (auditor, supervisor or admin); default: a local auditor token.",
)  # fmt: skip


def instant(text: str) -> datetime:
    """An instant as typed: RFC 3339 with Z or an offset, or a London wall-clock time (2027-02-03T10:00)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not a time such as 2027-02-03T10:00 or 2027-02-03T10:00:00Z"
        ) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=LONDON)


ROSTER_URL = typer.Option(
    "", "--roster-url", help="The roster service's base URL, for people's names (default: the local stack's)."
)


def bearer(token: str = "") -> str:
    """The token given, else a local auditor token (none in production: pass one)."""
    if token:
        return token
    try:
        return local_issuer().token(Role.AUDITOR, f"cli-{getpass.getuser()}")
    except RuntimeError as exc:  # production: tokens come from the identity provider
        raise typer.BadParameter(f"{exc}; pass one with --token", param_hint="--token") from exc


def get(path: str, url: str = "", token: str = "", params: dict[str, str] | None = None) -> Any:
    """GET one projections resource as JSON; a refusal or an outage ends the command, saying why."""
    base = url or f"http://{stack_settings().host}:{stack_settings().port('projections')}"
    token = bearer(token)
    try:
        response = httpx.get(f"{base.rstrip('/')}{path}", params=params, timeout=30,
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    except httpx.HTTPError as exc:
        console.print(
            f"projections at {base} does not answer ({exc}); is the stack up?", style="red", markup=False
        )
        raise typer.Exit(1) from exc
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        console.print(f"projections answered {response.status_code}: {detail}", style="red", markup=False)
        raise typer.Exit(1)
    return response.json()
