"""Process and port helpers: spawn, find, signal and stop the stack's processes; run commands."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .state import StackError, console, log_file, pid_file

# Children this process started: polling them reaps them, else a dead child would
# linger as a zombie that kill(pid, 0) still reports alive.
_children: dict[int, subprocess.Popen[bytes]] = {}


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        # Reaped: the pid may be handed out again, to a process that is not this child.
        del _children[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not zombie(pid)


def zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but its parent has not reaped it yet (state Z)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def cmdline(pid: int) -> str:
    """The command line of ``pid``, its arguments joined by spaces (empty once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def start_time(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot (/proc/<pid>/stat field 22); None once gone.

    With the pid it names one process for good: a pid the kernel hands out again gets another.
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _started_file(name: str) -> Path:
    # Beside the pid file, not in it: other tools read a pid file as a bare number.
    return pid_file(name).with_suffix(".started")


def record_pid(name: str, pid: int) -> None:
    """Record ``pid`` (and when it started) as the stack's process ``name``."""
    started = start_time(pid)
    if started is None:
        _started_file(name).unlink(missing_ok=True)
    else:
        _started_file(name).write_text(f"{started}\n")
    pid_file(name).write_text(f"{pid}\n")


def forget_pid(name: str) -> None:
    """Drop the record of the stack's process ``name``."""
    pid_file(name).unlink(missing_ok=True)
    _started_file(name).unlink(missing_ok=True)


def is_ours(pid: int, marker: str, started: str | None = None) -> bool:
    """Whether ``pid`` runs (not a zombie), runs ``marker`` and, if given, started at ``started``.

    A dead process, a zombie not yet reaped, and a pid handed out again to another program
    (or to another run of the same one) are all not the process we started.
    """
    if not alive(pid) or marker not in cmdline(pid):
        return False
    return started is None or start_time(pid) == started


def running_pid(name: str, marker: str) -> int | None:
    """The pid recorded for ``name`` if that process still runs and is the one we started."""
    try:
        pid = int(pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        started: str | None = _started_file(name).read_text().strip() or None
    except OSError:
        started = None  # recorded by an older version: the command line alone decides
    return pid if is_ours(pid, marker, started) else None


def worker_pids(supervisor: int) -> set[int]:
    """The worker processes a uvicorn supervisor runs (its live children started by spawn)."""
    workers: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # it ended while we looked
        pid = int(stat.parent.name)
        # multiprocessing's resource tracker is a child too, but serves nothing.
        if ppid == supervisor and alive(pid) and "spawn_main" in cmdline(pid):
            workers.add(pid)
    return workers


def spawn(name: str, command: Sequence[str], env: dict[str, str], cwd: Path) -> int:
    """Start ``command`` detached, logging to the state folder; records and returns its pid."""
    log_path = log_file(name)
    # One log per run, the previous kept beside it: a failure's tail is then this run's.
    if log_path.exists():
        log_path.replace(log_path.with_name(f"{name}.log.1"))
    with log_path.open("ab") as log:
        child = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            # Its own session: Ctrl-C in the terminal that ran `up` must not reach it.
            start_new_session=True,
        )
    _children[child.pid] = child
    record_pid(name, child.pid)
    return child.pid


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # Each process leads its own group (start_new_session); signal helpers it forked too.
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def terminate(pids: dict[str, int], grace: float) -> None:
    """SIGTERM ``pids``, SIGKILL what still runs after ``grace`` seconds; wait for them."""
    for pid in pids.values():
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(pid) for pid in pids.values()):
        time.sleep(0.2)
    for name, pid in pids.items():
        if alive(pid):
            console.print(f"[yellow]{name} ignored SIGTERM for {grace:.0f}s; killing it")
            _signal(pid, signal.SIGKILL)
    for pid in pids.values():
        for _ in range(50):
            if not alive(pid):
                break
            time.sleep(0.1)
        _children.pop(pid, None)


_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def become_subreaper() -> bool:
    """Adopt this process's orphaned descendants (Linux), so that ``reap`` can reap them at once.

    A postmaster started through pg_ctl is orphaned as pg_ctl exits; killed, it would stay a
    zombie until whichever process adopted it reaps it, and a zombie's pid in postmaster.pid
    keeps the next postmaster from starting.
    """
    if not sys.platform.startswith("linux"):
        return False
    return bool(ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def reap() -> list[int]:
    """Reap every child of this process that has exited; returns their pids.

    Only between commands this process runs and waits for (it waits for any child).
    """
    reaped: list[int] = []
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped.append(pid)
        _children.pop(pid, None)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


# How long a port may stay taken by a server just killed (its listening socket closes only
# once its last thread is gone; a killed uvicorn supervisor's workers close theirs on SIGTERM).
PORT_RELEASE_SECONDS = 3.0


def port_released(port: int, timeout: float = PORT_RELEASE_SECONDS) -> bool:
    """Whether nothing accepts connections on 127.0.0.1:``port``, waiting up to ``timeout`` s for it."""
    deadline = time.monotonic() + timeout
    while port_in_use(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def port_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers do; else connections of a just-stopped server (TIME_WAIT) block the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return not port_in_use(port)


def run(command: Sequence[str], what: str, cwd: Path | None = None) -> str:
    """Run ``command`` to its end; its stdout, else StackError naming ``what`` with its output."""
    try:
        done = subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=cwd,
            check=False,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise StackError(f"{what}: {command[0]} not found") from exc
    if done.returncode != 0:
        output = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        raise StackError(f"{what} failed (exit {done.returncode}):\n{output}")
    return done.stdout
