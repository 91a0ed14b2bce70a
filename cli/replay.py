"""`appointments replay [MODEL...]`: rebuild read models from the topics and swap them in.

It runs here, in the operator's process, as the owner of the projections database, not in
the projections service: why, and how the swap stays consistent with the live consumers, is
in ``services.projections.adapters.replay``.
"""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.operator import reaching, stack_settings
from services.common.logging import configure_logging
from services.projections.adapters import replay as rebuild
from services.projections.adapters.models import MODELS, UnknownModel, models_named

console = Console()
_NAMES = "; ".join(f"{m.name} ({', '.join(m.tables)}): {m.description}" for m in MODELS)


def replay(
    models: list[str] = typer.Argument(
        None, metavar="MODEL", help=f"Read models to rebuild (default: all). {_NAMES}."
    ),
    keep_replaced: bool = typer.Option(
        False,
        "--keep-replaced",
        help=f"Keep the replaced tables in the schema {rebuild.REPLACED} (until the next replay) to compare.",
    ),
    batch: int = typer.Option(
        rebuild.BATCH_RECORDS, "--batch", min=1, help="Records applied per transaction."
    ),
) -> None:
    """Rebuild read models from the topics into fresh tables and swap them in; the views answer meanwhile."""
    try:
        chosen = models_named(models or [])
    except UnknownModel as exc:
        raise typer.BadParameter(str(exc), param_hint="MODEL") from exc
    cfg = stack_settings()
    configure_logging("appointments-cli", json=cfg.log_json)
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
    )  # fmt: skip
    # Refreshed by the replay's own reports, not by a thread: the replay forks its workers, and a
    # thread caught mid-write at a fork could leave the child a lock nobody will release.
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as progress:
        task = progress.add_task("rebuilding", total=None, rate="")

        async def shown(p: rebuild.Progress) -> None:
            progress.update(
                task, description=p.phase, completed=p.done, total=p.total,
                rate=f"{p.rate:,.0f} events/s", refresh=True,
            )  # fmt: skip

        run = rebuild.Replay(cfg, chosen, batch_records=batch, keep_replaced=keep_replaced, on_progress=shown)
        try:
            with reaching("PostgreSQL or Kafka"):
                done = asyncio.run(run.run())
        except rebuild.ReplayFailed as exc:
            console.print(f"Replay failed, nothing swapped: {exc}", style="red", markup=False)
            raise typer.Exit(1) from exc
    print_report(done)


def print_report(done: rebuild.ReplayReport) -> None:
    """What was rebuilt, how fast, what was refused, and where the live consumers go on from."""
    refused = done.outcomes.get("deadlettered", 0)
    console.print(
        f"Rebuilt {', '.join(done.models)} ({', '.join(done.tables)}) from {done.records:,} records"
        f" in {done.seconds:.1f} s ({done.rate:,.0f} events/s) and swapped them in;"
        f" the live appliers waited {done.swap_seconds * 1000:.0f} ms.",
        markup=False, highlight=False,
    )  # fmt: skip
    if refused:
        console.print(
            f"{refused:,} record(s) outside the contract were not applied (as live: see `appointments"
            " deadletter list`).",
            style="yellow", markup=False,
        )  # fmt: skip
    if done.unapplied:
        console.print(
            f"{done.unapplied:,} record(s) on the topics were not applied by the live consumers yet (is the"
            " projections service running?): they apply them to the rebuilt tables as they go on.",
            style="yellow", markup=False,
        )  # fmt: skip
    if done.positions_swapped:
        console.print(f"Positions rebuilt with them: {', '.join(done.positions_swapped)}.", markup=False)
