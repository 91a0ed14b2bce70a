"""`appointments diary PLACE DAY [--at INSTANT]`: a station's or diary car's day, now or as it stood."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from cli.projections_client import TOKEN, URL, console, get, instant


def diary_path(place: str, day: str) -> str:
    """The projections' diary resource for a place: a station id, station:ID or diary-car:DISTRICT."""
    kind, _, name = place.rpartition(":")
    if kind in ("", "station"):
        return f"/diaries/stations/{name}/{day}"
    if kind == "diary-car":
        return f"/diaries/diary-cars/{name}/{day}"
    raise typer.BadParameter("a place is a station id (stevenage, station:stevenage) or diary-car:DISTRICT")


def diary(
    place: str = typer.Argument(
        ..., help="A station id (stevenage) or a diary car's district (diary-car:dacorum)."
    ),
    day: str = typer.Argument(..., help="The London date, YYYY-MM-DD."),
    at: str = typer.Option("", "--at", help="As it stood then: 2027-02-03T10:00 (London) or RFC 3339."),
    url: str = URL,
    token: str = TOKEN,
) -> None:
    """A station's or a diary car's diary for a day; with --at, as it stood at that instant."""
    params = {"at": instant(at).isoformat()} if at else None
    answer: dict[str, Any] = get(diary_path(place, day), url, token, params)
    as_at = f", as it stood at {answer['as_at']}" if answer.get("as_at") else ""
    table = Table("time", "status", "room", "officer", "appointment", "case", "THRIVE",
                  title=f"{answer['place_id']}: {answer['day_display']}{as_at}")  # fmt: skip
    for line in answer["appointments"]:
        table.add_row(
            line["when"], line["status"], line.get("room_id") or "", line.get("officer_id") or "",
            line["appointment_id"], line.get("case_reference") or "", line.get("thrive_risk") or "",
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(answer['appointments'])} appointment(s).")
