"""The stack's watchdog: a detached process that starts again whatever part of the stack dies.

`appointments up` starts it once the stack is healthy (``main`` below, in a process of its own, pid
in run/watchdog.pid, output in logs/watchdog.log); `appointments down` stops it first, under
the state folder's lock, before stopping anything else. It looks every quarter second at each
part's recorded process (each Kafka node, the postmaster named by postmaster.pid, every
service): a part whose process is gone, a zombie, or another program on a reused pid is started
again by the same code `up` runs (PostgreSQL through pg_ctl on the port the services were
given; a Kafka node from its jars; a service with the stack's environment), under the state
folder's lock and only while the stack's lease is held, so it never starts anything after
`down`. A part that dies again within STEADY seconds of being started waits before its next
start, from half a second doubling to a minute (a crash loop must not take the machine's
cores). It becomes the subreaper of what it starts, so a postmaster it started and that dies is
reaped at once rather than left a zombie that holds postmaster.pid.

A service that lives on but answers nothing is hung: a thread of the watchdog asks each running
service's /health every few seconds (``APPOINTMENTS_WATCHDOG_PROBE_SECONDS``, 5), and one that
answered once and has since given no answer at all (not even a 503, which says a server it needs
is down: waiting for it is right) for ``APPOINTMENTS_WATCHDOG_HUNG_SECONDS`` (30; 0 never) is
SIGKILLed, with its workers, and so started again as any death is. One still starting (never
answered yet) is left to start. Kafka and PostgreSQL are watched for deaths only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.config import PROJECT_ROOT, settings
from services.common.logging import configure_logging

from .kafka import kafka_nodes, start_missing_nodes
from .leases import STACK_LEASE, lease_held, locked
from .postgres import ensure_postgres, postgres_pid
from .process import become_subreaper, forget_pid, reap, running_pid, spawn, terminate
from .services import SERVICES, health_url, service_pid, start_services
from .state import console, subdir

WATCHDOG = "watchdog"
MODULE = "cli.stack.watchdog"
# Seconds between looks: a death is seen within this.
INTERVAL = 0.25
# A part that dies again within this many seconds of its start is in a crash loop.
STEADY = 30.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 60.0
STOP_GRACE = 10.0

# How long a probe of /health waits for any answer.
PROBE_TIMEOUT = 3.0

log = structlog.get_logger("watchdog")


class WatchdogSettings(BaseSettings):
    """When a service is taken for hung (APPOINTMENTS_WATCHDOG_<NAME>)."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_WATCHDOG_", extra="ignore")

    hung_seconds: float = Field(default=30.0, ge=0)  # 0: never taken for hung
    probe_seconds: float = Field(default=5.0, gt=0)


@dataclass
class Silence:
    """How long one process of a service has answered nothing, as the probes found."""

    pid: int
    since: float | None = None  # monotonic: the first probe in a row it did not answer
    answered: bool = False  # whether it ever answered: one still starting is not hung


def hung(silence: Silence | None, now: float, after: float) -> bool:
    """Whether a service's process, having answered before, has answered no probe for ``after``
    seconds (0: never hung)."""
    if after <= 0 or silence is None or silence.since is None:
        return False
    return silence.answered and now - silence.since >= after


def heard(silence: Silence | None, pid: int, answered: bool, now: float) -> Silence:
    """A service's silence after one probe of its process ``pid`` (another pid starts afresh)."""
    if silence is None or silence.pid != pid:
        silence = Silence(pid)
    if answered:
        silence.since, silence.answered = None, True
    elif silence.since is None:
        silence.since = now
    return silence


class Prober(threading.Thread):
    """Asks each running service's /health every ``every`` seconds, off the watchdog's loop."""

    def __init__(self, every: float) -> None:
        super().__init__(name="watchdog-prober", daemon=True)
        self._every = every
        self._lock = threading.Lock()
        self._silences: dict[str, Silence] = {}
        self._stop = threading.Event()

    def silences(self) -> dict[str, Silence]:
        """Each running service's silence as last probed."""
        with self._lock:
            return {name: Silence(s.pid, s.since, s.answered) for name, s in self._silences.items()}

    def forget(self, name: str) -> None:
        """Start afresh with ``name`` (it was killed)."""
        with self._lock:
            self._silences.pop(name, None)

    def stop(self) -> None:
        """Probe no more."""
        self._stop.set()

    def run(self) -> None:
        with httpx.Client(timeout=PROBE_TIMEOUT) as client:
            while not self._stop.wait(self._every):
                for name in SERVICES:
                    pid = service_pid(name)
                    if pid is None:
                        self.forget(name)  # dead: the death is the loop's to see
                        continue
                    try:
                        client.get(health_url(name), headers={"connection": "close"})
                        answered = True
                    except httpx.HTTPError:
                        answered = False
                    now = time.monotonic()
                    with self._lock:
                        self._silences[name] = heard(self._silences.get(name), pid, answered, now)


def _status_file() -> Path:
    return subdir("run") / "watchdog.json"


def watchdog_pid() -> int | None:
    """The watchdog's pid, if it runs."""
    return running_pid(WATCHDOG, MODULE)


def ensure_watchdog() -> int:
    """Start the watchdog unless it runs (call it holding the state folder's lock); its pid."""
    pid = watchdog_pid()
    if pid is not None:
        return pid
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", f"from {MODULE} import main; raise SystemExit(main())"]
    pid = spawn(WATCHDOG, command, env, PROJECT_ROOT)
    console.print("Started the watchdog: a part of the stack that dies is started again")
    return pid


def stop_watchdog() -> None:
    """Stop the watchdog (SIGTERM; call it holding the state folder's lock, lease released)."""
    pid = watchdog_pid()
    if pid is not None:
        console.print("Stopping the watchdog ...")
        terminate({WATCHDOG: pid}, STOP_GRACE)
    forget_pid(WATCHDOG)
    _status_file().unlink(missing_ok=True)


def watchdog_status() -> dict[str, Any]:
    """What the watchdog last wrote: since when it watches, and each part's restarts."""
    try:
        loaded = json.loads(_status_file().read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


@dataclass
class Part:
    """One part of the stack as the watchdog keeps it."""

    name: str
    restarts: int = 0
    started_at: float = 0.0  # monotonic, when the watchdog last started it
    failures: int = 0  # deaths within STEADY of a start, and starts that failed, in a row
    not_before: float = 0.0  # monotonic: no start before this
    down_since: float | None = None  # monotonic, when its death was seen
    last_restart: str = ""  # wall clock, ISO
    last_error: str = ""
    hangs: int = 0  # times it was killed for answering nothing

    def died(self, now: float) -> None:
        """Its death is seen: a quick one (a crash loop) waits before the next start."""
        self.down_since = now
        quick = self.started_at > 0 and now - self.started_at < STEADY
        self.failures = self.failures + 1 if quick else 0
        self.not_before = now + backoff(self.failures)

    def start_failed(self, now: float, error: str) -> None:
        """Starting it failed: try again after the back-off."""
        self.failures += 1
        self.not_before = now + backoff(self.failures)
        self.last_error = error


def backoff(failures: int) -> float:
    """Seconds before the next start after ``failures`` quick deaths or failed starts in a row."""
    return 0.0 if failures == 0 else min(FIRST_BACKOFF * 2 ** (failures - 1), MAX_BACKOFF)


def _external_postgres() -> bool:
    return bool(os.environ.get("APPOINTMENTS_PG_URL"))


def dead_parts() -> list[str]:
    """The parts of the stack whose process is not running: Kafka node(s), postgres, services."""
    dead = [node.name for node in kafka_nodes() if running_pid(node.name, "kafka.Kafka") is None]
    if not _external_postgres() and postgres_pid() is None:
        dead.append("postgres")
    dead.extend(name for name in SERVICES if service_pid(name) is None)
    return dead


def _starter(name: str) -> Callable[[], object]:
    if name == "postgres":
        # pg_ctl start -w: back when it accepts connections; on the port the services know.
        return lambda: ensure_postgres(timeout=30.0, same_port=True)
    if name in SERVICES:
        return lambda: start_services(names=[name])
    return lambda: start_missing_nodes(only=name)


class Watchdog:
    """The loop: look, and start again what died."""

    def __init__(self, settings: WatchdogSettings | None = None) -> None:
        self.parts: dict[str, Part] = {}
        self.since = datetime.now(UTC).isoformat(timespec="seconds")
        self.settings = settings or WatchdogSettings()
        self.prober = Prober(self.settings.probe_seconds) if self.settings.hung_seconds > 0 else None

    def kill_hung(self) -> None:
        """SIGKILL each service that has answered nothing for too long, so it dies and is started again."""
        if self.prober is None:
            return
        now = time.monotonic()
        for name, silence in self.prober.silences().items():
            if not hung(silence, now, self.settings.hung_seconds) or service_pid(name) != silence.pid:
                continue
            silent = round(now - (silence.since or now), 1)
            log.warning("part hung; killing it", part=name, pid=silence.pid, silent_seconds=silent)
            terminate({name: silence.pid}, 0.0)
            self.part(name).hangs += 1
            self.prober.forget(name)

    def part(self, name: str) -> Part:
        return self.parts.setdefault(name, Part(name))

    def look(self) -> list[str]:
        """Note the deaths seen now; returns the dead parts due to be started."""
        now = time.monotonic()
        due = []
        dead = dead_parts()
        for name, part in self.parts.items():
            if name not in dead:
                part.down_since = None  # back, by the watchdog's start or anyone else's
        for name in dead:
            part = self.part(name)
            if part.down_since is None:
                part.died(now)
                log.warning("part died", part=name, next_start_in=round(part.not_before - now, 1))
            if part.not_before <= now:
                due.append(name)
        return due

    def heal(self, due: list[str]) -> None:
        """Start the due parts again (PostgreSQL first, then Kafka, then the services)."""
        still_dead = set(dead_parts())  # under the lock: what `up` or a person did meanwhile counts
        for name in [n for n in due if n not in still_dead]:
            self.part(name).down_since = None
        order = ["postgres", *(n.name for n in kafka_nodes()), *SERVICES]
        for name in sorted(still_dead & set(due), key=order.index):
            part = self.part(name)
            began = time.monotonic()
            try:
                _starter(name)()
            except Exception as exc:  # whatever it was, the watchdog tries again later
                why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                part.start_failed(time.monotonic(), why)
                log.warning("start failed", part=name, error=part.last_error, failures=part.failures)
                continue
            part.restarts += 1
            part.started_at = time.monotonic()
            part.last_restart = datetime.now(UTC).isoformat(timespec="seconds")
            part.last_error = ""
            log.info(
                "part started again",
                part=name,
                seconds_since_seen_dead=round(part.started_at - (part.down_since or began), 2),
                restarts=part.restarts,
            )
            part.down_since = None
        self.write_status()

    def write_status(self) -> None:
        """Record each part's restarts for `appointments status` (written whole, then renamed)."""
        status = {
            "pid": os.getpid(),
            "since": self.since,
            "parts": {
                name: {
                    "restarts": part.restarts,
                    "last_restart": part.last_restart,
                    "down": part.down_since is not None,
                    "last_error": part.last_error,
                    "hangs": part.hangs,
                }
                for name, part in sorted(self.parts.items())
            },
        }
        draft = _status_file().with_suffix(".json.partial")
        draft.write_text(json.dumps(status, indent=2) + "\n")
        draft.replace(_status_file())

    def run(self) -> None:
        """Watch until the stack's lease is released (`down`) or SIGTERM."""
        self.write_status()
        if self.prober is not None:
            self.prober.start()
        try:
            self._watch()
        finally:
            if self.prober is not None:
                self.prober.stop()
        log.info("the stack's lease is released; the watchdog stops")

    def _watch(self) -> None:
        while lease_held(STACK_LEASE):
            reap()
            self.kill_hung()
            due = self.look()
            if due:
                with locked():
                    # `down` releases the lease holding this lock: once it has, start nothing.
                    if not lease_held(STACK_LEASE):
                        break
                    self.heal(due)
            time.sleep(INTERVAL)


@contextlib.contextmanager
def _only_one() -> Iterator[bool]:
    """Whether this is the state folder's only watchdog (holding run/watchdog.lock while it runs)."""
    with (subdir("run") / "watchdog.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def main() -> int:
    """The watchdog process, as `up` starts it (or as `appointments watchdog`)."""
    configure_logging(WATCHDOG, json=settings().log_json)
    with _only_one() as alone:
        if not alone:
            log.info("another watchdog watches this state folder")
            return 0
        watchdog = Watchdog()
        log.info(
            "watching", subreaper=become_subreaper(), interval=INTERVAL,
            hung_seconds=watchdog.settings.hung_seconds, probe_seconds=watchdog.settings.probe_seconds,
        )  # fmt: skip
        watchdog.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
