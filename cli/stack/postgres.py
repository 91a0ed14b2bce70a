"""The local PostgreSQL cluster in the state folder: start, stop, port and readiness."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from .pg_setup import chown_pg, ensure_pg_os_user, pg_bin, pg_bin_dir, pg_command, pg_home, pg_log
from .process import alive, port_free, run
from .state import StackError, console, log_file, log_hint, state_dir

PG_USER = "appointments"


def pg_port() -> int | None:
    """The port the local cluster was last started on, if any."""
    try:
        return int((state_dir() / "pg" / "port").read_text().strip())
    except (OSError, ValueError):
        return None


def pg_url(port: int) -> str:
    """The URL services get for the local cluster (no database name)."""
    return f"postgresql://{PG_USER}@127.0.0.1:{port}"


def postgres_running() -> bool:
    """Whether the local cluster in the state folder runs."""
    data = state_dir() / "pg" / "data"
    bin_dir = pg_bin_dir()
    if bin_dir is None or not (data / "PG_VERSION").exists():
        return False
    status = subprocess.run(
        pg_command(bin_dir, "pg_ctl", "-D", str(data.resolve()), "status"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return status.returncode == 0


def postgres_pid() -> int | None:
    """The postmaster's pid from its lock file, if the local cluster runs."""
    try:
        pid = int((state_dir() / "pg" / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if alive(pid) else None


def pg_ready(bin_dir: Path, port: int) -> bool:
    """Whether the cluster on ``port`` accepts connections (pg_isready)."""
    ready = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER],
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return ready.returncode == 0


def _wait_pg_ready(bin_dir: Path, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not pg_ready(bin_dir, port):
        if time.monotonic() > deadline:
            raise StackError(f"PostgreSQL is not ready on port {port}; {log_hint('postgres')}")
        time.sleep(0.3)


def _choose_pg_port() -> int:
    remembered = pg_port()
    candidates: list[int] = [5432, *range(5433, 5500)]
    if remembered is not None:
        candidates.insert(0, remembered)
    for port in candidates:
        if port_free(port):
            return port
    raise StackError("no free port for PostgreSQL in 5432..5499")


def _initdb(bin_dir: Path, home: Path, data: Path) -> None:
    console.print("Creating the PostgreSQL cluster (once) ...")
    last: StackError | None = None
    for locale in ("C.UTF-8", "C"):
        shutil.rmtree(data, ignore_errors=True)
        args = ["-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8", f"--locale={locale}"]
        try:
            run(pg_command(bin_dir, "initdb", *args), "initdb", cwd=home)
            return
        except StackError as exc:
            last = exc
    assert last is not None
    raise last


def ensure_postgres(timeout: float = 60.0) -> str:
    """Start the local PostgreSQL cluster unless it runs (or APPOINTMENTS_PG_URL names one)."""
    external = os.environ.get("APPOINTMENTS_PG_URL")
    if external:
        return external
    bin_dir = pg_bin()
    ensure_pg_os_user()
    home = pg_home()
    data, sockets = home / "data", home / "run"
    if not (data / "PG_VERSION").exists():
        _initdb(bin_dir, home, data)
    sockets.mkdir(exist_ok=True)
    chown_pg(home, sockets)
    port = pg_port()
    if postgres_running() and port is not None:
        _wait_pg_ready(bin_dir, port, timeout)
        return pg_url(port)
    port = _choose_pg_port()
    (home / "port").write_text(f"{port}\n")
    options = " ".join(
        [
            f"-p {port}",
            f"-k {shlex.quote(str(sockets))}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
            "-c fsync=on",
        ]
    )
    console.print(f"Starting PostgreSQL on 127.0.0.1:{port} ...")
    run(
        pg_command(
            bin_dir,
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(pg_log(home)),
            "-w",
            "-t",
            str(int(timeout)),
            "-o",
            options,
            "start",
        ),
        f"starting PostgreSQL (see {log_file('postgres')})",
        cwd=home,
    )
    _wait_pg_ready(bin_dir, port, timeout)
    return pg_url(port)


def stop_postgres() -> None:
    """Stop the local cluster (pg_ctl stop -m fast) if it runs."""
    if not postgres_running():
        return
    bin_dir = pg_bin_dir()
    assert bin_dir is not None
    home = (state_dir() / "pg").resolve()
    console.print("Stopping PostgreSQL ...")
    run(
        pg_command(bin_dir, "pg_ctl", "-D", str(home / "data"), "-m", "fast", "-w", "stop"),
        "stopping PostgreSQL",
        cwd=home,
    )
