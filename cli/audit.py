"""`appointments audit verify | checkpoint`: the events' hash chains, and signed checkpoints of heads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.operator import EVENT_DATABASES, reaching, stack_settings
from services.common import checkpoints
from services.common.chain_reader import DatabaseReport, verify_database
from services.common.checkpoints import Checkpoint, CheckpointInvalid, CheckpointSettings

app = typer.Typer(
    help="Tamper evidence: the events' hash chains and signed checkpoints.", no_args_is_help=True
)
console = Console()

DATABASES = typer.Option(
    list(EVENT_DATABASES), "--database", "-d", help="A service database to check (repeatable; default: all)."
)
CHECKPOINTS = typer.Option(
    None,
    "--checkpoints",
    help="The checkpoint folder (default: APPOINTMENTS_CHECKPOINT_DIR, else <state>/checkpoints).",
)


@dataclass
class Audit:
    """Each database's walk, the checkpoint each was held against, and a checkpoint that failed."""

    reports: list[DatabaseReport]
    signed: dict[str, Checkpoint] = field(default_factory=dict)
    invalid: str | None = None

    @property
    def holds(self) -> bool:
        """Whether every chain held, against every signed head, with no forged checkpoint."""
        return self.invalid is None and not any(r.breaks for r in self.reports)


def checkpoint_folder(given: Path | None) -> Path:
    """The folder checkpoints go to and are read from."""
    return given or checkpoints.folder(stack_settings(), CheckpointSettings())


async def audit_chains(
    databases: Sequence[str], folder: Path | None = None, show_progress: bool = True
) -> Audit:
    """Walk each database's chains against its latest signed checkpoint, with a progress bar each."""
    cfg = stack_settings()
    audit = Audit([])
    try:
        key = checkpoints.public_key(cfg, CheckpointSettings())
        audit.signed = checkpoints.latest_heads(checkpoint_folder(folder), key, list(databases))
    except CheckpointInvalid as exc:
        audit.invalid = str(exc)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not show_progress) as progress:
        for database in databases:
            task = progress.add_task(database, total=None)

            def total(count: int, task: TaskID = task) -> None:
                progress.update(task, total=count)

            def checked(count: int, task: TaskID = task) -> None:
                progress.advance(task, count)

            signed = audit.signed.get(database)
            heads = signed.heads[database] if signed is not None else None
            url = cfg.database_url(database)
            audit.reports.append(await verify_database(url, database, heads, total, checked))
    return audit


async def make_checkpoint(databases: Sequence[str], folder: Path | None = None) -> tuple[Audit, Path | None]:
    """Walk every chain and, only when all hold, sign their heads into a new checkpoint file."""
    audit = await audit_chains(databases, folder)
    if not audit.holds:
        return audit, None
    cfg = stack_settings()
    made_at = datetime.now(UTC)
    heads = {r.database: r.heads for r in audit.reports if r.found}
    document = checkpoints.signed_document(heads, checkpoints.signing_key(cfg, CheckpointSettings()), made_at)
    return audit, checkpoints.write(checkpoint_folder(folder), document, made_at)


def print_audit(audit: Audit) -> None:
    """A table of what each walk checked and against which checkpoint, then every break."""
    table = Table(
        "database", "events checked", "streams", "checkpoint", "first bad event", title="Hash chains"
    )
    for r in audit.reports:
        first = r.breaks[0] if r.breaks else None
        where = "none" if first is None else f"{first.stream_id} v{first.version}"
        signed = audit.signed.get(r.database)
        table.add_row(
            r.database if r.found else f"{r.database} (not found)", f"{r.checked:,}", f"{len(r.heads):,}",
            signed.made_at.isoformat(timespec="seconds") if signed else "none", where,
        )  # fmt: skip
    console.print(table)
    if audit.invalid:
        console.print(f"BAD checkpoint: {audit.invalid}", style="red", markup=False, soft_wrap=True)
    breaks = [b for r in audit.reports for b in r.breaks]
    for b in breaks:
        console.print(f"BAD {b.describe()}", style="red", markup=False, highlight=False, soft_wrap=True)
    checked = sum(r.checked for r in audit.reports)
    if not audit.signed and not audit.invalid:
        console.print(
            "No signed checkpoint yet: a tail cut off or hashed again cannot be seen without one"
            " (`appointments audit checkpoint`).",
            style="yellow",
        )
    if breaks:
        console.print(f"{len(breaks)} stream(s) broken among {checked:,} events checked.", style="red")
    elif audit.holds:
        console.print(f"{checked:,} events checked: every chain holds.", style="green")


@app.command()
def verify(databases: list[str] = DATABASES, folder: Path | None = CHECKPOINTS) -> None:
    """Recompute every hash chain, check the latest signed heads; exit 1 naming each first bad event."""
    with reaching("PostgreSQL"):
        audit = asyncio.run(audit_chains(databases, folder))
    print_audit(audit)
    if not audit.holds:
        raise typer.Exit(1)


@app.command()
def checkpoint(
    databases: list[str] = DATABASES,
    folder: Path | None = CHECKPOINTS,
    every: str = typer.Option("", "--every", help="Keep making one this often (15m, 1h, 1d); default: once."),
) -> None:
    """Verify every chain, then sign where each stream ends into a checkpoint file (not if one broke)."""
    from cli.main import parse_duration  # the one duration syntax of the command line

    interval = parse_duration(every).total_seconds() if every else 0.0
    while True:
        with reaching("PostgreSQL"):
            audit, path = asyncio.run(make_checkpoint(databases, folder))
        print_audit(audit)
        if path is None:
            console.print("Not signed: the chains must hold first.", style="red")
            raise typer.Exit(1)
        heads = sum(len(r.heads) for r in audit.reports)
        console.print(f"Signed {heads:,} stream heads into {path}", markup=False, highlight=False)
        if interval <= 0:
            return
        time.sleep(interval)
