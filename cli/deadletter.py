"""`appointments deadletter list | reprocess`: what consumers put aside, and sending it back once fixed."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import typer
from rich.console import Console
from rich.table import Table

from cli.deadletter_records import DeadLetter, Outcome, read_deadletters, reprocess, reprocessed
from cli.operator import reaching, stack_settings

app = typer.Typer(help="Dead letters: what consumers put aside, and sending it back.", no_args_is_help=True)
console = Console()

CONSUMER = typer.Option("", "--consumer", help="Only the dead letters of this consumer (group).")


def spoken_age(age: timedelta) -> str:
    """An age as an operator reads it: 3d 4h, 5h 2m, 12m, 40s."""
    seconds = max(0, int(age.total_seconds()))
    days, hours, minutes = seconds // 86400, seconds // 3600 % 24, seconds // 60 % 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


def _mine(letters: Sequence[DeadLetter], consumer: str) -> list[DeadLetter]:
    return [d for d in letters if not consumer or d.header("dlq_consumer") == consumer]


@app.command("list")
def list_letters(consumer: str = CONSUMER) -> None:
    """Every dead letter the topic holds, by its headers only (never its value): why, whose, from where."""
    cfg = stack_settings()
    with reaching("Kafka or PostgreSQL"):
        letters = _mine(asyncio.run(read_deadletters(cfg)), consumer)
        sent = asyncio.run(reprocessed(cfg))
    now = datetime.now(UTC)
    table = Table(
        "id", "age", "consumer", "source topic", "partition", "offset", "event type", "reason", "reprocessed",
        title=f"Dead letters ({len(letters)})",
    )  # fmt: skip
    for d in letters:
        when = sent.get(d.id)
        table.add_row(
            d.id, spoken_age(d.age(now)), d.header("dlq_consumer"), d.source_topic,
            d.header("dlq_source_partition"), d.header("dlq_source_offset"), d.header("ce_type"),
            d.header("dlq_reason"), when.isoformat(timespec="seconds") if when else "",
        )  # fmt: skip
    console.print(table)


def chosen(letters: Sequence[DeadLetter], ids: Sequence[str], every: bool, consumer: str) -> list[DeadLetter]:
    """The dead letters named by id, or every one (of a consumer); BadParameter for an unknown id."""
    if every == bool(ids):
        raise typer.BadParameter("name dead letters with --id ID (repeatable), or give --all")
    if every:
        return _mine(letters, consumer)
    by_id = {d.id: d for d in letters}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise typer.BadParameter(f"no dead letter {', '.join(unknown)} on the topic", param_hint="--id")
    return [by_id[i] for i in ids]


def print_outcomes(outcomes: Sequence[Outcome]) -> None:
    """Each dead letter's fate, and the counts."""
    table = Table("id", "source topic", "offset", "event type", "result", title="Reprocessed")
    for o in outcomes:
        table.add_row(
            o.letter.id, o.letter.source_topic, o.letter.header("dlq_source_offset"),
            o.letter.header("ce_type"), f"{o.result}: {o.why}" if o.why else o.result,
        )  # fmt: skip
    console.print(table)
    count = {r: sum(o.result == r for o in outcomes) for r in ("sent", "already", "refused")}
    console.print(f"{count['sent']} sent, {count['already']} already reprocessed, {count['refused']} refused")


@app.command("reprocess")
def reprocess_letters(
    ids: list[str] = typer.Option([], "--id", help="A dead letter's id (partition:offset; repeatable)."),
    every: bool = typer.Option(False, "--all", help="Every dead letter not yet reprocessed."),
    consumer: str = CONSUMER,
    by: str = typer.Option("", "--by", help="Who reprocesses (recorded; default: the OS user)."),
) -> None:
    """Open each dead letter with the deployment key and republish the original to its topic, once ever."""
    cfg = stack_settings()
    with reaching("Kafka or PostgreSQL"):
        letters = chosen(asyncio.run(read_deadletters(cfg)), ids, every, consumer)
        outcomes = asyncio.run(reprocess(cfg, letters, by or f"operator:{getpass.getuser()}"))
    print_outcomes(outcomes)
    if any(o.result == "refused" for o in outcomes):
        raise typer.Exit(1)
