"""`appointments audit verify`: recompute every service's hash chains and name the first bad event."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.operator import EVENT_DATABASES, stack_settings
from services.common.chain_reader import DatabaseReport, verify_database

app = typer.Typer(help="Tamper evidence: the events' hash chains.", no_args_is_help=True)
console = Console()

DATABASES = typer.Option(
    list(EVENT_DATABASES), "--database", "-d", help="A service database to check (repeatable; default: all)."
)


async def verify_all(databases: Sequence[str], show_progress: bool = True) -> list[DatabaseReport]:
    """Walk each database's chains, with a progress bar per database; the reports, in order."""
    cfg = stack_settings()
    reports = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not show_progress) as progress:
        for database in databases:
            task = progress.add_task(database, total=None)

            def total(count: int, task: TaskID = task) -> None:
                progress.update(task, total=count)

            def checked(count: int, task: TaskID = task) -> None:
                progress.advance(task, count)

            report = await verify_database(
                cfg.database_url(database), database, on_total=total, on_checked=checked
            )
            reports.append(report)
    return reports


def print_reports(reports: Sequence[DatabaseReport]) -> int:
    """A table of what each walk checked, then every break; returns the number of breaks."""
    table = Table("database", "events checked", "streams", "first bad event", title="Hash chains")
    for r in reports:
        first = r.breaks[0] if r.breaks else None
        where = (
            "not found" if not r.found else "none" if first is None else f"{first.stream_id} v{first.version}"
        )
        table.add_row(r.database, f"{r.checked:,}", f"{len(r.heads):,}", where)
    console.print(table)
    breaks = [b for r in reports for b in r.breaks]
    for b in breaks:
        console.print(f"BAD {b.describe()}", style="red", markup=False, highlight=False, soft_wrap=True)
    checked = sum(r.checked for r in reports)
    if breaks:
        console.print(f"{len(breaks)} stream(s) broken among {checked:,} events checked.", style="red")
    else:
        console.print(f"{checked:,} events checked: every chain holds.", style="green")
    return len(breaks)


@app.command()
def verify(databases: list[str] = DATABASES) -> None:
    """Recompute every stream's hash chain; exit 1 naming the first bad event of each broken stream."""
    reports = asyncio.run(verify_all(databases))
    if print_reports(reports):
        raise typer.Exit(1)
