"""`appointments postcodes load ONSPD.csv --names "LA_UA names and codes UK as at MM_YY.csv"`.

Loads the ONS Postcode Directory's live postcodes of the county's districts into the projections
database, where ``GET /postcodes/{postcode}`` answers which district's diary car covers one. It
runs here, in the operator's process, as the owner of the projections database (as `appointments
replay` does): one streaming pass over the ~2.7M-row file keeps the county's few tens of thousands
of rows, then one COPY replaces the last release's in a transaction. Which LAD code is which
district comes from the names file, matched to the seed's district names; a district no LAD name
matches stops the load, naming it and the closest names, and nothing is changed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import asyncpg
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cli.operator import reaching, stack_settings
from services.common.london import spoken_moment
from services.common.reference import COUNTY_FILE, County, load_county
from services.projections.adapters import postcodes as directory

app = typer.Typer(
    help="The ONS Postcode Directory: which district's diary car covers a caller's postcode.",
    no_args_is_help=True,
)
console = Console()


def _county(file: Path) -> County:
    try:
        return load_county(file)
    except (ValidationError, ValueError, OSError) as exc:
        console.print(f"{file} is not valid reference data: {exc}", style="red", markup=False)
        raise typer.Exit(2) from exc


def _matched(county: County, names: Path) -> directory.Matched:
    try:
        matched = directory.match_districts(county, directory.lad_names(names))
    except (directory.DirectoryError, OSError) as exc:
        console.print(f"{names}: {exc}", style="red", markup=False)
        raise typer.Exit(2) from exc
    if matched.unmatched:
        console.print(
            f"Nothing loaded: {len(matched.unmatched)} of {county.name}'s districts"
            f" {'has' if len(matched.unmatched) == 1 else 'have'} no local authority"
            f" district of the same name in {names.name}:",
            style="red", markup=False,
        )  # fmt: skip
        for u in matched.unmatched:
            closest = f" (closest there: {', '.join(u.closest)})" if u.closest else " (nothing close)"
            console.print(f"  {u.name} [{u.district_id}]{closest}", markup=False)
        console.print(
            "Is it the names file of the same ONSPD release? If the county spells a district"
            " differently, change the seed by pull request, not here.",
            markup=False,
        )
        raise typer.Exit(2)
    return matched


async def _store(
    url: str, read: directory.Read, matched: directory.Matched, file: Path, names: Path
) -> datetime:
    conn: asyncpg.Connection = await asyncpg.connect(url)
    try:
        return await directory.store(conn, read, matched, file.name, names.name)
    except asyncpg.UndefinedTableError as exc:
        raise typer.BadParameter(
            "the projections database has no postcodes table yet: start the projections service once"
            " (it applies migration 013)"
        ) from exc
    finally:
        await conn.close()


def _codes(matched: directory.Matched, district_id: str) -> str:
    return ", ".join(code for code, district in matched.codes.items() if district == district_id)


@app.command()
def load(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="The ONSPD CSV (Data/ONSPD_*_UK.csv)."
    ),
    names: Path = typer.Option(
        ...,
        "--names",
        exists=True,
        dir_okay=False,
        help="The ONSPD's LAD names and codes (Documents/LA_UA names and codes UK as at MM_YY.csv).",
    ),
    county_file: Path = typer.Option(COUNTY_FILE, "--county", help="The county's reference data (TOML)."),
) -> None:
    """Load the ONSPD's postcodes of the county's districts (replacing the last load)."""  # fmt: skip
    county = _county(county_file)
    matched = _matched(county, names)
    with console.status(f"Reading {file.name} ..."):
        try:
            read = directory.read_directory(file, matched.codes)
        except (directory.DirectoryError, OSError) as exc:
            console.print(f"{file}: {exc}", style="red", markup=False)
            raise typer.Exit(2) from exc
    counts = read.by_district()
    empty = [f"{d.name} ({_codes(matched, d.id)})" for d in county.districts if not counts.get(d.id)]
    if empty:
        console.print(
            f"Nothing loaded: {file.name} has no live postcode in {', '.join(empty)}:"
            f" is {names.name} of the same ONSPD release?",
            style="red", markup=False,
        )  # fmt: skip
        raise typer.Exit(2)
    url = stack_settings().database_url("projections")
    with reaching("the projections database"):
        loaded_at = asyncio.run(_store(url, read, matched, file, names))
    table = Table(title=f"{county.name}: postcodes by district ({file.name})")
    for column in ("District", "LAD code", "Live postcodes"):
        table.add_column(column, justify="right" if column == "Live postcodes" else "left")
    for d in county.districts:
        table.add_row(d.name, _codes(matched, d.id), f"{counts[d.id]:,}")
    console.print(table)
    terminated = len(read.postcodes) - read.live()
    skipped = f"; {read.misshapen:,} unreadable rows skipped" if read.misshapen else ""
    console.print(
        f"Loaded {read.live():,} live postcodes ({terminated:,} terminated, kept to say so) of"
        f" {read.rows:,} rows at {spoken_moment(loaded_at)}{skipped}.",
        markup=False, highlight=False,
    )  # fmt: skip
