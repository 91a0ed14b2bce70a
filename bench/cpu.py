"""CPU time of this process, and of the Kafka and PostgreSQL servers found by their ports.

psutil is not installed, so other processes are read from /proc (``bench.proctree``).
The servers are found by the port they listen on, which works for whichever servers
``find_or_start_servers`` handed us, as long as they run on this machine.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from dataclasses import dataclass

from bench import proctree
from bench.proctree import PROC

_LISTEN = "0A"


def own_cpu() -> float:
    """CPU seconds this process has used (user + system, every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def listening_inodes(table: str, port: int) -> set[str]:
    """The socket inodes listening on ``port`` in the text of /proc/net/tcp or tcp6."""
    inodes: set[str] = set()
    for line in table.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 10:
            continue
        local, state, inode = parts[1], parts[3], parts[9]
        if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
            inodes.add(inode)
    return inodes


def _holders(inodes: set[str]) -> Iterable[int]:
    wanted = {f"socket:[{i}]" for i in inodes}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    yield int(entry.name)
                    break
        except OSError:
            continue  # gone, or not ours to look at


def listener_pid(port: int) -> int | None:
    """The pid of the process listening on a local TCP port, or None when it cannot be found."""
    inodes: set[str] = set()
    for name in ("tcp", "tcp6"):
        try:
            inodes |= listening_inodes((PROC / "net" / name).read_text(), port)
        except OSError:
            continue
    if not inodes:
        return None
    holders = set(_holders(inodes))
    # Forked children may hold the parent's listening socket; the server is the eldest holder.
    for pid in sorted(holders):
        parent = proctree.stat(pid)
        if parent is not None and parent.ppid not in holders:
            return pid
    return None


@dataclass(frozen=True)
class Servers:
    """The local Kafka broker and PostgreSQL postmaster, by pid (None when not found here)."""

    kafka_pid: int | None
    postgres_pid: int | None

    def cpu(self) -> float | None:
        """CPU seconds used so far by both servers, or None when either cannot be read."""
        if self.kafka_pid is None or self.postgres_pid is None:
            return None
        # As trees: the postmaster's holds every backend it forked.
        kafka = proctree.tree_cpu(self.kafka_pid)
        postgres = proctree.tree_cpu(self.postgres_pid)
        if kafka is None or postgres is None:
            return None
        return kafka + postgres


def delta(before: float | None, after: float | None) -> float | None:
    """after - before, or None when either sample is missing."""
    if before is None or after is None:
        return None
    return after - before
