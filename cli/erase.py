"""`appointments erase SUBJECT` (crypto-shred a data subject) and `appointments subject` (find their id)."""

from __future__ import annotations

import asyncio
import getpass
import re

import typer
from rich.console import Console
from rich.table import Table

from cli.erasure import Erasure, FoundSubject, erase_subject, subjects_by_case, subjects_by_phone
from cli.operator import reaching, stack_settings
from services.booking.adapters.personal import InvalidPersonalData
from services.common.logging import configure_logging, get_logger

console = Console()
log = get_logger("cli.erase")
SUBJECT_ID = re.compile(r"subject-[0-9a-f]{24}")


def erase(
    subject: str = typer.Argument(
        ..., help="The data subject's id, subject-... (`appointments subject` finds it)."
    ),
    by: str = typer.Option(
        "", "--by", help="Who erases, recorded with the key's tombstone (default: the OS user)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Do not ask: the erasure cannot be undone."),
) -> None:
    """Destroy a data subject's key, empty their copies in projections and notifications (for ever).

    Then the topics carrying their details in clear lose what their readers took; exits 3 if some
    of the subject's records there are not taken yet (run it again once their reader is back).
    """
    if not SUBJECT_ID.fullmatch(subject):
        raise typer.BadParameter("a subject id reads subject- and 24 hex digits", param_hint="SUBJECT")
    cfg = stack_settings()
    configure_logging("appointments-cli", json=cfg.log_json)
    if not yes:
        typer.confirm(
            f"Erase {subject}? Their names, numbers, addresses and notes become unreadable for ever",
            abort=True,
        )
    with reaching("PostgreSQL"):
        done = asyncio.run(erase_subject(cfg, subject, by or f"admin:{getpass.getuser()}"))
    print_erasure(done)
    if not done.known:
        raise typer.Exit(1)
    if done.topics.kept:
        raise typer.Exit(3)


def print_erasure(done: Erasure) -> None:
    """What the erasure did, and its log line (ids and counts only, never the erased data)."""
    if not done.known:
        console.print(f"No data subject {done.subject_id} in the key store: nothing erased.", style="red")
        return
    n = done.notifications
    log.info(
        "data subject erased", subject_id=done.subject_id, erased_by=done.erased_by,
        key_destroyed=done.key_destroyed, projections_events=done.projections_events,
        notifications_appointments=n.appointments, notifications_texts=n.texts,
        notifications_replies=n.replies, notifications_reminders=n.reminders,
        topic_records_deleted=done.topics.deleted, topic_records_kept=done.topics.kept,
        access_log_event=done.logged_as,
    )  # fmt: skip
    key = "destroyed now" if done.key_destroyed else "already destroyed"
    console.print(
        f"{done.subject_id}: key {key}; sealed values removed from {done.projections_events} event(s)"
        f" of the projections' history; from the notifications, the number and its hash of"
        f" {n.appointments} appointment(s), the number of {n.texts} text(s) (those still to go"
        f" marked erased), the words of {n.replies} repl(ies), and {n.reminders} reminder(s)."
        " Events and Kafka keep only ciphertext no key opens.",
        markup=False, highlight=False,
    )  # fmt: skip
    if done.logged_as:
        console.print(f"In the access log as erasure {done.logged_as}.", markup=False, highlight=False)
    for t in done.topics.topics:
        line = f"{t.topic}: {t.deleted} record(s) in clear deleted (taken by their reader)"
        if t.kept:
            why = f": {t.unread}" if t.unread else ""
            line += f"; {t.kept} of the subject's NOT yet taken by their reader{why}, kept. Run erase again."
        console.print(line, markup=False, highlight=False, style="red" if t.kept else None)


def print_found(found: list[FoundSubject]) -> None:
    """The subjects found: id, whether their key still exists, how many appointments name them."""
    table = Table("subject id", "key", "appointments", title=f"Data subjects ({len(found)})")
    for f in found:
        state = (
            "live"
            if f.erased_at is None
            else f"erased {f.erased_at.isoformat(timespec='seconds')} by {f.erased_by}"
        )
        table.add_row(f.subject_id, state if f.in_keystore else "unknown", str(f.appointments))
    console.print(table)


def subject(
    case_reference: str = typer.Option("", "--case-reference", help="A case reference given at booking."),
    phone: str = typer.Option("", "--phone", help="The caller's phone number, as they gave it."),
) -> None:
    """Find a data subject's id by a case reference or their phone number (printing ids only)."""
    if bool(case_reference) == bool(phone):
        raise typer.BadParameter("give one of --case-reference or --phone")
    cfg = stack_settings()
    try:
        with reaching("PostgreSQL"):
            found = asyncio.run(
                subjects_by_case(cfg, case_reference) if case_reference else subjects_by_phone(cfg, phone)
            )
    except InvalidPersonalData as exc:
        raise typer.BadParameter(exc.reason, param_hint="--phone") from exc
    print_found(found)
    if not found:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `erase` and `subject` to the command line."""
    app.command("erase")(erase)
    app.command("subject")(subject)
