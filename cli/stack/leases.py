"""The state folder's lock and the leases that say who uses the local servers."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from .process import alive
from .state import subdir

_lock_depth = 0


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Hold the state folder's lock: one process at a time starts or stops servers."""
    global _lock_depth
    # flock is per open file: taking it again in the same process would wait for ever.
    if _lock_depth:
        _lock_depth += 1
        try:
            yield
        finally:
            _lock_depth -= 1
        return
    with (subdir("run") / "stack.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _lock_depth = 1
        try:
            yield
        finally:
            _lock_depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


# A lease says "I use the local servers": `up` holds `stack` until `down`; a test session
# holds one while it runs. Servers a test session started are stopped by the last lease out.
STACK_LEASE = "stack"


def _leases() -> Path:
    return subdir("run", "leases")


def take_lease(name: str) -> None:
    """Record that ``name`` (this process) uses the local servers."""
    (_leases() / name).write_text(f"{os.getpid()}\n")


def lease_held(name: str) -> bool:
    """Whether the lease ``name`` is taken (whoever took it)."""
    return (_leases() / name).exists()


def release_lease(name: str) -> None:
    """Drop the lease ``name``."""
    (_leases() / name).unlink(missing_ok=True)


def other_leases(name: str) -> list[str]:
    """Leases still held besides ``name``: `stack` always, others while their process lives."""
    held = []
    for path in _leases().iterdir():
        if path.name == name:
            continue
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if path.name == STACK_LEASE or (pid and alive(pid)):
            held.append(path.name)
        else:
            path.unlink(missing_ok=True)
    return held
