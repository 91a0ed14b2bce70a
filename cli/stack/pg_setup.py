"""What PostgreSQL needs before it runs: server binaries, the postgres OS user, reachable folders."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from .process import run
from .state import StackError, console, log_file, state_dir

PG_OS_USER = "postgres"


def pg_bin_dir() -> Path | None:
    """The folder of the newest installed PostgreSQL server binaries, if any."""

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.split("/")[-3]))

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def pg_bin() -> Path:
    """The PostgreSQL server binaries' folder; as root, installs the Debian package if missing."""
    bin_dir = pg_bin_dir()
    if bin_dir is not None:
        return bin_dir
    install = "apt-get update && apt-get install -y postgresql"
    if os.geteuid() != 0:
        raise StackError(f"PostgreSQL server binaries not found; install them: sudo sh -c '{install}'")
    console.print("PostgreSQL not found; installing the Debian package ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        done = subprocess.run(step, stdin=subprocess.DEVNULL, env=env, check=False)
        if done.returncode != 0:
            raise StackError(f"`{' '.join(step)}` failed (exit {done.returncode})")
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise StackError("the postgresql package installed but no initdb was found")
    return bin_dir


def _as_root() -> bool:
    return os.geteuid() == 0


def pg_command(bin_dir: Path, tool: str, *args: str) -> list[str]:
    """``tool`` with ``args``, run as the postgres user when this process is root."""
    # PostgreSQL refuses to run as root; the Debian package's `postgres` user runs it instead.
    command = [str(bin_dir / tool), *args]
    return ["runuser", "-u", PG_OS_USER, "--", *command] if _as_root() else command


def _pg_user_can(test: str, path: Path) -> bool:
    if not _as_root():
        return True
    probe = ["runuser", "-u", PG_OS_USER, "--", "test", test, str(path)]
    return subprocess.run(probe, stdin=subprocess.DEVNULL, check=False).returncode == 0


def chown_pg(*paths: Path) -> None:
    """Give ``paths`` to the postgres user when running as root."""
    if _as_root():
        for path in paths:
            shutil.chown(path, PG_OS_USER, PG_OS_USER)


def ensure_pg_os_user() -> None:
    """As root, create the postgres OS user if it is missing."""
    if not _as_root():
        return
    if subprocess.run(["id", "-u", PG_OS_USER], capture_output=True, check=False).returncode:
        run(["useradd", "--system", "--user-group", "--no-create-home", PG_OS_USER], "useradd")


def pg_home() -> Path:
    """Where the cluster lives: <state>/pg, or a place the postgres user can reach."""
    link = state_dir() / "pg"
    if link.is_symlink() or link.exists():
        return link.resolve()
    link.mkdir()
    chown_pg(link)
    if _pg_user_can("-w", link):
        return link
    # The checkout sits under a folder the postgres user cannot enter (e.g. /root):
    # keep the cluster in /var/lib and leave a link to it in the state folder.
    link.rmdir()
    key = hashlib.sha256(str(state_dir()).encode()).hexdigest()[:12]
    home = Path("/var/lib/station-appointments") / key / "pg"
    home.mkdir(parents=True, exist_ok=True)
    home.parent.chmod(0o755)
    home.parent.parent.chmod(0o755)
    chown_pg(home)
    link.symlink_to(home, target_is_directory=True)
    return home


def pg_log(home: Path) -> Path:
    """The file the postmaster logs to: logs/postgres.log, or one beside the cluster."""
    log = log_file("postgres")
    log.touch()
    chown_pg(log)
    if _pg_user_can("-w", log):
        return log
    log.unlink()
    target = home / "postgres.log"
    log.symlink_to(target)
    return target
