"""What the operations and audit commands reach: the configured stack, else the local one."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import asyncpg
import typer
from aiokafka.errors import KafkaError
from rich.console import Console

from cli import stack
from services.common.config import Settings, settings

# The databases whose events hold a hash chain: every service keeps its own event store.
EVENT_DATABASES: tuple[str, ...] = ("booking", "roster", "notifications", "projections")
console = Console(stderr=True)


async def owner_connection(cfg: Settings, database: str) -> asyncpg.Connection | None:
    """The owner's connection to a service's database; None when the stack has no such database."""
    try:
        conn: asyncpg.Connection = await asyncpg.connect(cfg.database_url(database))
    except asyncpg.InvalidCatalogNameError:
        return None
    return conn


def stack_settings() -> Settings:
    """The settings of the stack to work on: the environment's, else the local stack's.

    With no APPOINTMENTS_PG_URL the local cluster `appointments up` started is used, as its
    owner (whose password the state folder keeps), with the stack's own pseudonym key.
    """
    if "APPOINTMENTS_PG_URL" not in os.environ:
        port = stack.pg_port()
        if port is not None:
            os.environ.update(stack.stack_environment(settings().kafka_bootstrap, stack.pg_url(port)))
            settings.cache_clear()
    return settings()


@contextlib.contextmanager
def reaching(what: str = "the stack") -> Iterator[None]:
    """Say plainly that a server cannot be reached (exit 2), rather than with a traceback."""
    try:
        yield
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, KafkaError) as exc:
        console.print(
            f"{what} cannot be reached or refused: {type(exc).__name__}: {exc}", style="red", markup=False,
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        raise typer.Exit(2) from exc
