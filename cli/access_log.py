"""`appointments access-log`: who collected, altered, consulted or disclosed whose personal data.

The projections' answer (``GET /access-log``, auditors and admins) as a table: people by their
subject ids, appointments by id, never what their data says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from cli.people import named, staff_names
from cli.projections_client import ROSTER_URL, TOKEN, URL, bearer, console, get
from services.common.london import local


def access_log(
    subject: str = typer.Option(
        "", "--subject", help="A data subject's id (subject-…): everything about them."
    ),
    from_day: str = typer.Option("", "--from", help="The first London day, YYYY-MM-DD."),
    to_day: str = typer.Option("", "--to", help="The last London day, YYYY-MM-DD (included)."),
    limit: int = typer.Option(1000, "--limit", min=1, max=5000, help="At most this many entries."),
    url: str = URL,
    token: str = TOKEN,
    roster_url: str = ROSTER_URL,
) -> None:
    """The access log (DPA 2018 s.62): a subject's collections, alterations, consultations,
    disclosures and erasure, or, without --subject, every consultation and erasure in the range."""
    params = {"limit": str(limit)}
    for name, value in (("subject", subject), ("from", from_day), ("to", to_day)):
        if value:
            params[name] = value
    entries: list[dict[str, Any]] = get("/access-log", url, token, params)
    names = staff_names(bearer(token), roster_url)
    title = f"Access log of {subject}" if subject else "Access log: consultations and erasures"
    table = Table(
        "when (London)",
        "operation",
        "by",
        "subject",
        "appointment",
        "what",
        "through",
        "to",
        "recorded in",
        title=title,
    )
    for e in entries:
        when = local(datetime.fromisoformat(e["at"])).isoformat(sep=" ", timespec="seconds")
        table.add_row(
            when, e["operation"], named(e.get("by"), names), e["subject_id"], e.get("appointment_id") or "",
            e["what"], e["channel"], e.get("recipient") or "", e["recorded_in"],
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(entries)} entries", markup=False)


def register(app: typer.Typer) -> None:
    """Add the command under its hyphenated name."""
    app.command("access-log")(access_log)
