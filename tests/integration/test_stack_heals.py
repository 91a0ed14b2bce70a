"""The stack heals itself: a part SIGKILLed, or a service hung, is started again by `up`'s watchdog.

A whole stack of this test's own (`appointments up --no-seed` in a state folder of its own, on
ports of its own: the suite's shared Kafka and PostgreSQL must live): each service, the
postmaster and the Kafka broker in turn is SIGKILLed, and the test waits until a new process of
that part runs and every /health answers 200 again. Then a service is stopped (SIGSTOP: alive,
answering nothing) and the watchdog kills and restarts it; `appointments status` then names the
restarts. Last, `appointments down` stops everything, the watchdog first, and nothing comes back.
How long each part took is printed (`-s`) for the README, never asserted. And without a
watchdog, a postmaster killed and not yet reaped is started again once reaped, not taken for live.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cli.stack.process import is_ours, port_in_use
from services.common.config import PROJECT_ROOT, settings
from tests.support.servers import Servers

pytestmark = pytest.mark.integration
SERVICES = ("booking", "roster", "notifications", "projections", "web", "simulator")
# Each part, and what its recorded process runs.
PARTS = {**{name: "services." if name != "web" else "web" for name in SERVICES}, "postgres": "postgres",
         "kafka": "kafka.Kafka"}  # fmt: skip
HEAL_TIMEOUT = 120.0
# Below Linux's ephemeral range (32768 and up), where a port just found free can be taken by
# an outgoing connection (even the probe's own, connected to itself) before the server binds it.
FIRST_SERVICE_PORT, FIRST_KAFKA_PORT = 18400, 19492


def free_ports(count: int, start: int) -> int:
    """The first port from ``start`` on from which ``count`` ports in a row are free."""
    base = start
    while any(port_in_use(p) for p in range(base, base + count)):
        base += count
    return base


@dataclass(frozen=True)
class OwnStack:
    state: Path
    env: dict[str, str]
    ports: dict[str, int]

    def appointments(self, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """`appointments ARGS` against this stack (tables wide enough for a row to fit a line)."""
        return subprocess.run(
            [sys.executable, "-c", "from cli.main import app; app()", *args],
            env={**self.env, "COLUMNS": "400"}, cwd=PROJECT_ROOT, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    def pid(self, part: str) -> int | None:
        """The live process recorded for ``part`` (the postmaster: its lock file's), else None."""
        path = (
            self.state / "pg" / "data" / "postmaster.pid"
            if part == "postgres"
            else self.state / "run" / f"{part}.pid"
        )
        try:
            pid = int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if is_ours(pid, PARTS[part]) else None

    def unhealthy(self, client: httpx.Client) -> list[str]:
        """The services whose /health does not answer 200."""
        down = []
        for name in SERVICES:
            try:
                ok = client.get(f"http://127.0.0.1:{self.ports[name]}/health").status_code == 200
            except httpx.HTTPError:
                ok = False
            if not ok:
                down.append(name)
        return down


@pytest.fixture
def own_stack(servers: Servers) -> Iterator[OwnStack]:
    """`appointments up --no-seed` in a state folder of its own; everything stopped after.

    (``servers`` only so that the session's Kafka jars are there to share, not fetched again.)
    """
    state = Path(tempfile.mkdtemp(prefix="sa-heals-", dir="/tmp"))
    state.chmod(0o755)  # the postgres OS user runs the cluster inside it
    session_state = settings().state_dir.resolve()
    jars, maven = session_state / "kafka" / "libs", session_state / "m2"
    if jars.is_dir():  # the jars the session's broker runs from
        (state / "kafka").mkdir()
        (state / "kafka" / "libs").symlink_to(jars)
    elif maven.is_dir():  # else `up` fetches them, from the session's Maven cache where it can
        (state / "m2").symlink_to(maven)
    base = free_ports(len(SERVICES), FIRST_SERVICE_PORT)
    ports = {name: base + i for i, name in enumerate(SERVICES)}
    # Nothing of the session's servers or tests (their URLs, prefixes, suffixes) may leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPOINTMENTS_")}
    env.update(
        {
            "APPOINTMENTS_STATE_DIR": str(state),
            "APPOINTMENTS_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_ports(2, FIRST_KAFKA_PORT)}",
            "APPOINTMENTS_BOOKING_WORKERS": os.environ.get("APPOINTMENTS_BOOKING_WORKERS", "2"),
            # A service that answers nothing is taken for hung sooner than the default 30 s.
            "APPOINTMENTS_WATCHDOG_HUNG_SECONDS": "5",
            "APPOINTMENTS_WATCHDOG_PROBE_SECONDS": "1",
            **{f"APPOINTMENTS_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        }
    )
    stack = OwnStack(state, env, ports)
    try:
        up = stack.appointments("up", "--no-seed")
        assert up.returncode == 0, up.stderr[-3000:]
        yield stack
    finally:
        stack.appointments("down", timeout=180)
        # Whatever `down` left (it failed, or the test did), so no server of it outlives the test.
        for part in PARTS:
            pid = stack.pid(part)
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(state, ignore_errors=True)


def wait_until_healed(stack: OwnStack, part: str, killed: int, client: httpx.Client) -> float:
    """Seconds from now until a new process of ``part`` runs and every /health answers 200."""
    began = time.monotonic()
    deadline = began + HEAL_TIMEOUT
    while True:
        pid = stack.pid(part)
        unhealthy = stack.unhealthy(client)
        if pid is not None and pid != killed and not unhealthy:
            return time.monotonic() - began
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{part} not healed in {HEAL_TIMEOUT:.0f}s: process {pid}, not healthy: {unhealthy}; "
                f"watchdog log:\n{(stack.state / 'logs' / 'watchdog.log').read_text()[-2000:]}"
            )
        time.sleep(0.1)


def test_every_part_sigkilled_is_started_again_and_down_stops_it_all(own_stack: OwnStack) -> None:
    stack = own_stack
    figures: dict[str, float] = {}
    with httpx.Client(timeout=2.0) as client:
        assert stack.unhealthy(client) == []
        for part in PARTS:
            killed = stack.pid(part)
            assert killed is not None, f"{part} does not run"
            os.kill(killed, signal.SIGKILL)
            figures[part] = wait_until_healed(stack, part, killed, client)
            assert not is_ours(killed, PARTS[part])  # the old one is gone, not merely joined
        print("\nseconds from SIGKILL to healthy again:", {k: round(v, 1) for k, v in figures.items()})

        # Hung: alive, deaf to every request and to SIGTERM (stopped). The watchdog's probes hear
        # nothing for 5 s, it kills the process, and starts the service again.
        hung = stack.pid("roster")
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)
        seconds = wait_until_healed(stack, "roster", hung, client)
        assert not is_ours(hung, PARTS["roster"])
    print("seconds from SIGSTOP to healthy again (hung after 5 s):", round(seconds, 1))

    # Every row healthy (exit 0), the watchdog's naming each part it started again, once (the
    # roster twice: killed, then hung).
    status = stack.appointments("status", timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    watchdog_row = next(line for line in status.stdout.splitlines() if line.startswith("│ watchdog"))
    for part in PARTS:
        assert f"{part} {2 if part == 'roster' else 1}x" in watchdog_row, watchdog_row
    assert "1 hung)" in watchdog_row, watchdog_row

    watchdog_pid = int((stack.state / "run" / "watchdog.pid").read_text())
    assert is_ours(watchdog_pid, "cli.stack.watchdog"), watchdog_row
    down = stack.appointments("down", timeout=180)
    assert down.returncode == 0, down.stderr[-3000:]
    assert not is_ours(watchdog_pid, "cli.stack.watchdog")
    # Long enough for the watchdog to have seen every death many times over, had it lived on.
    time.sleep(2.0)
    assert {part: stack.pid(part) for part in PARTS} == dict.fromkeys(PARTS)
    assert [name for name, port in stack.ports.items() if port_in_use(port)] == []


# Run in a process of its own that adopts the postmaster (a subreaper, as init is for `up`'s),
# kills it and reaps it only 1.5 s later, as init did here; meanwhile the cluster is started again.
ZOMBIE_POSTMASTER = """
import os, signal, threading, time
from cli.stack import postgres
from cli.stack.process import become_subreaper, zombie
assert become_subreaper()
postgres.ensure_postgres()
killed = postgres._lock_file_pid()
os.kill(killed, signal.SIGKILL)
while not zombie(killed):
    time.sleep(0.01)
threading.Timer(1.5, os.waitpid, (killed, 0)).start()
postgres.ensure_postgres()
print(killed, postgres.postgres_pid(), postgres.postgres_running())
"""


def test_a_killed_postmaster_not_yet_reaped_is_not_taken_for_a_running_cluster() -> None:
    """Without a watchdog, as `up` does it: a killed postmaster stays a zombie until reaped.

    Its pid stays in postmaster.pid and kill(pid, 0) still finds it: `up` once took it for a
    running cluster, and a postmaster started before it is reaped refuses ("lock file
    postmaster.pid already exists"). The start now waits for it to be reaped.
    """
    state = Path(tempfile.mkdtemp(prefix="sa-zombie-", dir="/tmp"))
    state.chmod(0o755)  # the postgres OS user runs the cluster inside it
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPOINTMENTS_")}
    env["APPOINTMENTS_STATE_DIR"] = str(state)

    def run(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code],
            env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    try:
        done = run(ZOMBIE_POSTMASTER)
        assert done.returncode == 0, done.stderr[-2000:]
        killed, started, running = done.stdout.split()
        assert started not in (killed, "None") and running == "True"
        assert is_ours(int(started), "postgres")
    finally:
        run("from cli.stack import postgres; postgres.stop_postgres()")
        shutil.rmtree(state, ignore_errors=True)
