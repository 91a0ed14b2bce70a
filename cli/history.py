"""`appointments history APPOINTMENT`: an appointment's whole history with who did what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from cli.people import named, staff_names
from cli.projections_client import ROSTER_URL, TOKEN, URL, bearer, console, get
from services.common.london import local

SEALED = {"subject_id", "nonce", "ciphertext"}


def details(data: dict[str, Any]) -> str:
    """An event's facts in a line; sealed values (personal data) are shown as sealed, never opened."""
    parts = []
    for key, value in data.items():
        if key in ("appointment_id", "diary"):
            continue
        if isinstance(value, dict):
            sealed = [k for k, v in value.items() if isinstance(v, dict) and v.keys() == SEALED]
            if value.keys() == SEALED or sealed:
                parts.append(f"{key}: sealed")
            continue
        if value is not None and not isinstance(value, list):
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def history(
    appointment: str = typer.Argument(..., help="The appointment's id."),
    url: str = URL,
    token: str = TOKEN,
    roster_url: str = ROSTER_URL,
) -> None:
    """An appointment's whole history, oldest first: when, what, who (user and role), which channel, why.

    Channels: http, control-room, roster-change, waitlist, text-reply, service (the projections' answer).
    """
    items: list[dict[str, Any]] = get(f"/appointments/{appointment}/history", url, token)
    names = staff_names(bearer(token), roster_url)
    table = Table("when (London)", "event", "by", "through", "details", title=f"Appointment {appointment}")
    for item in items:
        when = local(datetime.fromisoformat(item["occurred_at"])).isoformat(sep=" ", timespec="seconds")
        what = f"{item['event_type']} v{item['schema_version']}"
        by = named(item.get("actor"), names)
        table.add_row(when, what, by, item.get("channel") or "", details(item["data"]))
    console.print(table)
