"""Reaching every worker of a service that serves in several processes on one port.

Which worker answers is the kernel's choice per connection, so a request meant
for all of them is repeated on new connections until each worker (named by the
``x-served-by`` header) has answered it.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import proctree
from bench.client import Answer, Unreachable
from bench.proctree import PROC
from bench.service import check_alive

# A new connection per request, so the kernel may hand it to any worker.
NEW_CONNECTION = {"connection": "close"}


def worker_pids(pid: int, proc: Path = PROC) -> set[int]:
    """The processes that serve: a uvicorn supervisor's spawned workers, or the process itself."""
    workers = set()
    for child in proctree.children(pid, proc):
        try:
            # multiprocessing's resource tracker is a child too, but serves nothing.
            if b"spawn_main" in (proc / str(child) / "cmdline").read_bytes():
                workers.add(child)
        except OSError:
            continue  # it ended while we looked
    return workers or {pid}


async def on_every_worker(
    process: subprocess.Popen[bytes],
    log_path: Path,
    send: Callable[[], Awaitable[Answer]],
    seconds: float,
    what: str,
    expected: int = 1,
) -> None:
    """Repeat ``send`` (on new connections) until every worker, ``expected`` at least, answered it with a 2xx.

    A supervisor starts its workers one after another: until ``expected`` are running,
    the ones running so far are not all there will be.
    """
    deadline = time.monotonic() + seconds
    answered: set[int] = set()
    last = "no answer"
    while True:
        check_alive(process, log_path)
        workers = worker_pids(process.pid)
        if len(workers) >= expected and workers <= answered:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{what}: {len(workers & answered)} of {max(expected, len(workers))} workers answered "
                f"in {seconds:.0f} s (last: {last})"
            )
        try:
            response = await send()
            last = f"{response.status_code} {response.text[:200]}"
            if response.is_success:
                # A service without the header has one process, the one we started.
                answered.add(int(response.headers.get("x-served-by", process.pid)))
                continue
        except Unreachable as exc:
            last = type(exc).__name__
        await asyncio.sleep(0.2)
