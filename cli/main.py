"""`appointments`: the project's one command (CONTRACT.md, "Command line")."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import typer

from cli import stack
from services.common.auth import Role
from services.common.config import settings
from services.common.token_keys import local_issuer

app = typer.Typer(
    help="Station Appointments: the local stack and the operations and audit commands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Other commands live in their own modules. Each exposes one of, in this order:
# `register(app: typer.Typer) -> None`; or `app: typer.Typer`, mounted as a command
# group named after the module (cli.audit -> `appointments audit verify`); or a
# function named after the module, added as that command (cli.diary.diary -> `diary`).
# A module not written yet is skipped; one that fails to import fails loudly.
COMMAND_MODULES: tuple[str, ...] = (
    "cli.seed",
    "cli.replay",
    "cli.diary",
    "cli.history",
    "cli.access_log",
    "cli.audit",
    "cli.erase",
    "cli.deadletter",
    "cli.sms",
    "cli.postcodes",
)


@contextlib.contextmanager
def _stack_errors() -> Iterator[None]:
    try:
        yield
    except stack.StackError as exc:
        stack.console.print(str(exc), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


def _point_at(kafka_bootstrap: str, pg_url: str) -> None:
    # Code run in this process afterwards (the seed) must reach the same stack.
    os.environ.update(stack.stack_environment(kafka_bootstrap, pg_url))
    settings.cache_clear()


def _run_seed() -> None:
    if importlib.util.find_spec("cli.seed") is None:
        return
    seed = getattr(importlib.import_module("cli.seed"), "seed", None)
    if seed is None:
        return
    stack.console.print("Seeding the county's reference data ...")
    # Run it as its command line would, so typer.Option defaults become real values.
    runner = typer.Typer(add_completion=False)
    runner.command()(seed)
    result = runner(args=[], prog_name="appointments seed", standalone_mode=False)
    if inspect.isawaitable(result):
        result = asyncio.run(_awaited(result))
    if isinstance(result, int) and result != 0:
        raise typer.Exit(result)


async def _awaited(result: object) -> object:
    assert inspect.isawaitable(result)
    return await result


@app.command()
def up(
    seed: bool = typer.Option(True, "--seed/--no-seed", help="Load the county's reference data."),
    timeout: float = typer.Option(180.0, help="Seconds to wait for every service to be healthy."),
    brokers: int | None = typer.Option(
        None,
        help="Kafka nodes: 1, or a replicated cluster of 3 (default APPOINTMENTS_KAFKA_BROKERS, else 1).",
    ),
) -> None:
    """Start PostgreSQL, Kafka and every service; seed; print URLs and tokens."""
    if brokers is not None:
        if brokers not in (1, 3):
            stack.console.print("--brokers is 1 (one broker) or 3 (a replicated cluster)", style="red")
            raise typer.Exit(2)
        os.environ["APPOINTMENTS_KAFKA_BROKERS"] = str(brokers)
        settings.cache_clear()
    with _stack_errors():
        with stack.locked():
            pg_url = stack.ensure_postgres()
            kafka_bootstrap = stack.ensure_kafka()
            # From now on a test session that started these servers leaves them running.
            stack.take_lease(stack.STACK_LEASE)
            stack.ensure_topics(kafka_bootstrap)
            stack.start_services(kafka_bootstrap, pg_url)
        stack.wait_healthy(timeout)
        with stack.locked():
            # Once all is healthy: from now on a part that dies is started again.
            stack.ensure_watchdog()
        _point_at(kafka_bootstrap, pg_url)
        if seed:
            _run_seed()
        stack.print_summary()


@app.command()
def down() -> None:
    """Stop the watchdog, then the services, PostgreSQL and Kafka that `up` started."""
    with _stack_errors(), stack.locked():
        # Lease first, watchdog next, under the lock: it starts nothing once either is gone.
        stack.release_lease(stack.STACK_LEASE)
        stack.stop_watchdog()
        stack.stop_all()


@app.command(hidden=True)
def watchdog() -> None:
    """Watch the local stack and start again any part that dies (`up` starts it; `down` stops it)."""
    from cli.stack.watchdog import main

    raise typer.Exit(main())


@app.command()
def status() -> None:
    """Show which processes run and whether each is healthy (exit 1 if any is not)."""
    with _stack_errors():
        if not stack.print_status():
            raise typer.Exit(1)


@app.command()
def topics() -> None:
    """Create the contract's Kafka topics on APPOINTMENTS_KAFKA_BOOTSTRAP (idempotent)."""
    with _stack_errors():
        bootstrap = settings().kafka_bootstrap
        stack.wait_for_kafka(bootstrap)
        created = stack.ensure_topics(bootstrap)
        stack.console.print(f"topics created: {', '.join(created) or 'none (all existed)'}")


# The longest a local token may be asked for: a pasted token should stop working soon.
LONGEST_LOCAL_TOKEN = timedelta(days=7)
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """A duration written as 8h, 30m, 1h30m, 2d or 90s; ValueError for anything else."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration such as 8h, 30m, 1h30m or 2d")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


@app.command()
def token(
    role: Role = typer.Argument(..., help="The role the token carries."),
    sub: str = typer.Option("", "--sub", help="Who it is for: a collar number or a system's name."),
    ttl: str = typer.Option("8h", "--ttl", help="How long it is valid: 30m, 8h, 1h30m, 2d (at most 7d)."),
) -> None:
    """Print a bearer token for ROLE that the local stack accepts (signed with its state folder's key)."""
    try:
        valid_for = parse_duration(ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ttl") from exc
    if not timedelta(0) < valid_for <= LONGEST_LOCAL_TOKEN:
        raise typer.BadParameter("a local token lasts more than 0s and at most 7d", param_hint="--ttl")
    try:
        issuer = local_issuer()
    except RuntimeError as exc:  # production: tokens come from the identity provider
        stack.console.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from exc
    subject = sub or f"local-{role.value}"
    typer.echo(issuer.token(role, subject, valid_for))
    until = (datetime.now(UTC) + valid_for).isoformat(timespec="seconds")
    stack.console.print(f"{role.value} token for {subject}, valid until {until}", markup=False)


def _register(module_name: str) -> None:
    if importlib.util.find_spec(module_name) is None:
        return
    module = importlib.import_module(module_name)
    name = module_name.rpartition(".")[2]
    register = getattr(module, "register", None)
    group = getattr(module, "app", None)
    command = getattr(module, name, None)
    if callable(register):
        register(app)
    elif isinstance(group, typer.Typer):
        app.add_typer(group, name=name)
    elif callable(command):
        app.command(name)(command)


for _module_name in COMMAND_MODULES:
    _register(_module_name)
