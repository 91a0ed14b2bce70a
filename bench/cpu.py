"""CPU time of this process, of the booking service subprocess, and of the Kafka and PostgreSQL servers.

psutil is not installed, so other processes are read from /proc/<pid>/stat. The
servers are found by the port they listen on, which works for whichever servers
``find_or_start_servers`` handed us, as long as they run on this machine.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")
_LISTEN = "0A"


@dataclass(frozen=True)
class Stat:
    """The CPU fields of /proc/<pid>/stat, in seconds."""

    ppid: int
    utime: float
    stime: float
    cutime: float
    cstime: float

    @property
    def own(self) -> float:
        """CPU of the process itself (all its threads)."""
        return self.utime + self.stime

    @property
    def with_reaped_children(self) -> float:
        """Its own CPU plus that of the children it has already waited for."""
        return self.own + self.cutime + self.cstime


def parse_stat(text: str) -> Stat:
    """Read the CPU fields of one /proc/<pid>/stat line."""
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); ppid is field 4; utime..cstime are fields 14..17.
    ticks = [int(v) / CLOCK_TICKS for v in fields[11:15]]
    return Stat(int(fields[1]), *ticks)


def stat(pid: int) -> Stat | None:
    """The CPU fields of a running process, or None when it is gone or unreadable."""
    try:
        return parse_stat((_PROC / str(pid) / "stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def own_cpu() -> float:
    """CPU seconds this process has used (user + system, every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float | None:
    """CPU seconds another process has used, or None when it cannot be read."""
    found = stat(pid)
    return None if found is None else found.own


def _all_stats() -> dict[int, Stat]:
    stats: dict[int, Stat] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            found = stat(int(entry.name))
            if found is not None:
                stats[int(entry.name)] = found
    return stats


def tree_cpu(pid: int) -> float | None:
    """CPU seconds of a server process and its children (PostgreSQL's backends), or None.

    A child that exits between two samples moves its time into the parent's
    cutime/cstime when reaped, so the sum stays continuous.
    """
    stats = _all_stats()
    if pid not in stats:
        return None
    children = (s.with_reaped_children for s in stats.values() if s.ppid == pid)
    return stats[pid].with_reaped_children + sum(children)


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
    for entry in _PROC.iterdir():
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
            inodes |= listening_inodes((_PROC / "net" / name).read_text(), port)
        except OSError:
            continue
    if not inodes:
        return None
    holders = set(_holders(inodes))
    # Forked children may hold the parent's listening socket; the server is the eldest holder.
    for pid in sorted(holders):
        parent = stat(pid)
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
        kafka = process_cpu(self.kafka_pid)
        postgres = tree_cpu(self.postgres_pid)
        if kafka is None or postgres is None:
            return None
        return kafka + postgres


def delta(before: float | None, after: float | None) -> float | None:
    """after - before, or None when either sample is missing."""
    if before is None or after is None:
        return None
    return after - before
