"""CPU of a process and every process under it, read from /proc (psutil is not installed).

A booking service may be a uvicorn supervisor whose worker processes serve, and
PostgreSQL is a postmaster with a backend per connection: what a service costs
is the CPU of its whole tree. ``proc`` is injectable so tests can use a fake one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


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


def stat(pid: int, proc: Path = PROC) -> Stat | None:
    """The CPU fields of a process, or None when it is gone or unreadable."""
    try:
        return parse_stat((proc / str(pid) / "stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def children(pid: int, proc: Path = PROC) -> set[int]:
    """The live children of ``pid``: from each thread's ``children`` file, else by every ppid."""
    found: set[int] = set()
    try:
        # A child belongs to the thread that forked it: read every thread's list.
        for task in (proc / str(pid) / "task").iterdir():
            found.update(int(p) for p in (task / "children").read_text().split())
        return found
    except FileNotFoundError:
        pass  # a kernel built without CONFIG_PROC_CHILDREN, or the process is gone
    except (OSError, ValueError):
        return found
    for entry in proc.iterdir():
        if entry.name.isdigit() and (s := stat(int(entry.name), proc)) is not None and s.ppid == pid:
            found.add(int(entry.name))
    return found


def tree(pid: int, proc: Path = PROC) -> list[int]:
    """``pid`` and every live descendant of it, parents before their children."""
    pids = [pid]
    for parent in pids:  # grows while it is walked: breadth first
        pids.extend(sorted(children(parent, proc) - set(pids)))
    return pids


def tree_cpu(pid: int, proc: Path = PROC) -> float | None:
    """CPU seconds of ``pid``'s whole tree, or None when ``pid`` is gone.

    Each process counts with the children it has reaped: one that exits between
    two samples moves its time into its parent's cutime/cstime, so the sum stays
    continuous, and a worker started in between is found by the second walk.
    """
    stats = [stat(p, proc) for p in tree(pid, proc)]
    if stats[0] is None:
        return None
    return sum(s.with_reaped_children for s in stats if s is not None)
