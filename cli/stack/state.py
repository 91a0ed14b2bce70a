"""The state folder: its paths, pid files and logs; the stack's console and error type."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from services.common.config import settings

console = Console(stderr=True)


class StackError(RuntimeError):
    """The local stack could not be brought to the wanted state; the message says why."""


def state_dir() -> Path:
    """The state folder, created on first use."""
    path = settings().state_dir.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def subdir(*parts: str) -> Path:
    """A folder under the state folder, created on first use."""
    path = state_dir().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file(name: str) -> Path:
    """Where a process of the stack writes its output."""
    return subdir("logs") / f"{name}.log"


def pid_file(name: str) -> Path:
    """Where the pid of the stack's process ``name`` is recorded."""
    return subdir("run") / f"{name}.pid"


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file (empty when it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def log_hint(name: str) -> str:
    """The tail of ``name``'s log, for an error message."""
    path = log_file(name)
    # The broker's own log4j output goes to broker.log; kafka.log only holds its stdout.
    if name == "kafka" and not tail(path).strip():
        path = log_file("broker")
    return f"last lines of {path}:\n{tail(path)}"
