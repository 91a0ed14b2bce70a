"""The local PostgreSQL cluster in the state folder: start, stop, port, readiness and access.

Access: every TCP connection proves a password with SCRAM-SHA-256. The owner (``PG_USER``,
the cluster's superuser, which creates the databases and roles and runs migrations) has a
password generated into ``<state>/pg-passwords/owner``; each service's login role has its own
beside it (``services.common.config.Settings.login_password``). The socket, in a folder only
the cluster's OS user can enter, stays open to that user for this module's own upkeep.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from services.common.config import state_secret
from services.common.db import scram_sha256

from .pg_setup import chown_pg, ensure_pg_os_user, pg_bin, pg_bin_dir, pg_command, pg_home, pg_log
from .process import is_ours, port_free, run, zombie
from .state import StackError, console, log_file, log_hint, state_dir

PG_USER = "appointments"
# Written over whatever initdb (or an older version of this module) left.
HBA = """\
# Written by cli/stack/postgres.py: TCP needs a SCRAM-SHA-256 password; the socket, in a
# folder only the cluster's OS user can enter, serves that user's upkeep of the cluster.
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
"""


def owner_password() -> str:
    """The local owner's password, generated into the state folder on first use (mode 0600)."""
    return state_secret(state_dir() / "pg-passwords" / "owner")


def pg_port() -> int | None:
    """The port the local cluster was last started on, if any."""
    try:
        return int((state_dir() / "pg" / "port").read_text().strip())
    except (OSError, ValueError):
        return None


def pg_url(port: int) -> str:
    """The owner's URL of the local cluster (no database name), password included."""
    return f"postgresql://{PG_USER}:{owner_password()}@127.0.0.1:{port}"


def postgres_running() -> bool:
    """Whether the local cluster in the state folder runs.

    The postmaster named by its lock file must be alive, not a zombie: `pg_ctl status` asks
    kill(pid, 0), which a killed postmaster not yet reaped still answers, and `up` then
    waited a full minute on a cluster that was gone.
    """
    data = state_dir() / "pg" / "data"
    bin_dir = pg_bin_dir()
    if bin_dir is None or not (data / "PG_VERSION").exists():
        return False
    if postgres_pid() is None:
        return False
    status = subprocess.run(
        pg_command(bin_dir, "pg_ctl", "-D", str(data.resolve()), "status"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return status.returncode == 0


def _lock_file_pid() -> int | None:
    try:
        return int((state_dir() / "pg" / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def postgres_pid() -> int | None:
    """The postmaster's pid from its lock file, if the local cluster runs."""
    pid = _lock_file_pid()
    if pid is None:
        return None
    # Not a zombie, and a postmaster: a pid handed out again to another program is not ours.
    return pid if is_ours(pid, "postgres") else None


def _wait_for_dead_postmaster(timeout: float) -> None:
    """Wait until the dead postmaster named by the lock file is reaped.

    Until its parent reaps it, a killed postmaster stays a zombie, which kill(pid, 0) still
    finds: a postmaster started meanwhile takes it for a live one and refuses to start
    ("lock file postmaster.pid already exists").
    """
    pid = _lock_file_pid()
    deadline = time.monotonic() + timeout
    while pid is not None and zombie(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


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


def _choose_pg_port(same_port: bool = False) -> int:
    remembered = pg_port()
    if same_port and remembered is not None:
        # The services were given this port: a cluster started again must listen on it.
        if not port_free(remembered):
            raise StackError(f"PostgreSQL's port {remembered} is still taken")
        return remembered
    candidates: list[int] = [5432, *range(5433, 5500)]
    if remembered is not None:
        candidates.insert(0, remembered)
    for port in candidates:
        if port_free(port):
            return port
    raise StackError("no free port for PostgreSQL in 5432..5499")


def _initdb(bin_dir: Path, home: Path, data: Path) -> None:
    console.print("Creating the PostgreSQL cluster (once) ...")
    # initdb reads the owner's password from a file the postgres OS user can read, gone after.
    password_file = home / "initdb-password"
    password_file.touch(mode=0o600)
    password_file.write_text(owner_password() + "\n")
    chown_pg(password_file)
    last: StackError | None = None
    try:
        for locale in ("C.UTF-8", "C"):
            shutil.rmtree(data, ignore_errors=True)
            args = [
                "-D", str(data), "-U", PG_USER, f"--pwfile={password_file}",
                "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", f"--locale={locale}",
            ]  # fmt: skip
            try:
                run(pg_command(bin_dir, "initdb", *args), "initdb", cwd=home)
                return
            except StackError as exc:
                last = exc
    finally:
        password_file.unlink(missing_ok=True)
    assert last is not None
    raise last


def _psql(bin_dir: Path, home: Path, port: int, sql: str) -> None:
    """Run ``sql`` as the owner over the socket (the statement on stdin, never on a command line)."""
    command = pg_command(
        bin_dir, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(home / "run"), "-p", str(port),
        "-U", PG_USER, "-d", "postgres", "-f", "-",
    )  # fmt: skip
    done = subprocess.run(command, input=sql, capture_output=True, text=True, cwd=home, check=False)
    if done.returncode != 0:
        raise StackError(f"psql on the local cluster failed: {done.stderr.strip()[-500:]}")


def _owner_signs_in(bin_dir: Path, port: int) -> bool:
    """Whether the owner's password from the state folder opens a TCP session."""
    probe = subprocess.run(
        [str(bin_dir / "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER,
         "-d", "postgres", "-c", "select 1"],
        env={**os.environ, "PGPASSWORD": owner_password(), "PGCONNECT_TIMEOUT": "5"},
        stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )  # fmt: skip
    return probe.returncode == 0


def _secure(bin_dir: Path, home: Path, port: int) -> None:
    """Passwords over TCP: the owner's from the state folder, and pg_hba.conf as HBA says.

    A cluster made before (trust over TCP) or an owner password lost from the state folder are
    put right over the socket, which never needs one.
    """
    hba = home / "data" / "pg_hba.conf"
    if hba.read_text() == HBA and _owner_signs_in(bin_dir, port):
        return
    console.print("Securing PostgreSQL: owner password and SCRAM-SHA-256 over TCP ...")
    _psql(bin_dir, home, port, f"alter role {PG_USER} password '{scram_sha256(owner_password())}';")
    if hba.read_text() != HBA:
        hba.write_text(HBA)
        chown_pg(hba)
        _psql(bin_dir, home, port, "select pg_reload_conf();")


def ensure_postgres(timeout: float = 60.0, same_port: bool = False) -> str:
    """Start the local PostgreSQL cluster unless it runs (or APPOINTMENTS_PG_URL names one).

    ``same_port``: start it on the port it last had, or not at all (StackError), since what
    already runs was pointed at that port.
    """
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
    # With local trust, the socket's folder is the gate: only the cluster's OS user enters.
    sockets.chmod(0o700)
    chown_pg(home, sockets)
    port = pg_port()
    if postgres_running() and port is not None:
        _wait_pg_ready(bin_dir, port, timeout)
        _secure(bin_dir, home, port)
        return pg_url(port)
    _wait_for_dead_postmaster(timeout=10.0)
    port = _choose_pg_port(same_port)
    (home / "port").write_text(f"{port}\n")
    options = " ".join(
        [
            f"-p {port}",
            f"-k {shlex.quote(str(sockets))}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
            "-c fsync=on",
            # After a crash, one syncfs() of the file system rather than an fsync() of each of
            # the cluster's ~2,000 files before recovery: 2.7 s of a 6 s restart here.
            "-c recovery_init_sync_method=syncfs",
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
    _secure(bin_dir, home, port)
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
