"""`up`, `status` and the watchdog take a recorded pid for the part only while it is the process started.

Real processes, no stand-ins: a child left unreaped (a zombie, which kill(pid, 0) still finds),
a live process running another program, and one whose start time is not the one recorded.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.stack import process, watchdog
from services.common.config import settings

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)  # sa-liveness-marker"]


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A state folder of the test's own."""
    monkeypatch.setenv("APPOINTMENTS_STATE_DIR", str(tmp_path))
    settings.cache_clear()
    yield tmp_path
    settings.cache_clear()


def _state_of(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _wait_for_zombie(child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while _state_of(child.pid) != "Z":
        if time.monotonic() > deadline:
            raise TimeoutError("the child never exited")
        time.sleep(0.01)


def test_a_zombie_is_not_the_running_part(state: Path) -> None:
    child = subprocess.Popen(SLEEPER)
    try:
        process.record_pid("booking", child.pid)
        assert process.running_pid("booking", "sa-liveness-marker") == child.pid
        child.kill()
        _wait_for_zombie(child)  # exited, not reaped: kill(pid, 0) still succeeds
        assert process.zombie(child.pid)
        assert process.running_pid("booking", "sa-liveness-marker") is None
    finally:
        child.kill()
        child.wait()


def test_a_pid_running_another_program_is_not_the_part(state: Path) -> None:
    child = subprocess.Popen(SLEEPER)
    try:
        process.record_pid("kafka", child.pid)
        assert process.running_pid("kafka", "kafka.Kafka") is None
        assert process.running_pid("kafka", "sa-liveness-marker") == child.pid
    finally:
        child.kill()
        child.wait()


def test_a_pid_handed_out_again_is_not_the_part(state: Path) -> None:
    child = subprocess.Popen(SLEEPER)
    try:
        process.record_pid("roster", child.pid)
        # As if the pid had been given to another run of the same program since it was recorded.
        (state / "run" / "roster.started").write_text("1\n")
        assert process.running_pid("roster", "sa-liveness-marker") is None
        # A pid file written by an older version (no start time) is judged by its command line.
        (state / "run" / "roster.started").unlink()
        assert process.running_pid("roster", "sa-liveness-marker") == child.pid
    finally:
        child.kill()
        child.wait()


def test_a_crash_loop_waits_longer_each_time_and_a_steady_part_starts_at_once() -> None:
    part = watchdog.Part("projections")
    part.died(now=100.0)  # never started by the watchdog: at once
    assert part.not_before == 100.0
    part.started_at = 100.0
    part.died(now=101.0)  # died again a second after its start
    part.started_at = 101.5
    part.died(now=102.0)
    assert (part.failures, part.not_before) == (2, 102.0 + 2 * watchdog.FIRST_BACKOFF)
    part.started_at = 103.0
    part.died(now=103.0 + watchdog.STEADY + 1)  # it had run steadily: at once again
    assert (part.failures, part.not_before) == (0, 103.0 + watchdog.STEADY + 1)
    assert watchdog.backoff(30) == watchdog.MAX_BACKOFF


def test_the_watchdog_starts_what_died_in_order_and_counts_what_failed(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = {"booking", "postgres", "kafka"}
    started: list[str] = []

    def starter(name: str) -> object:
        def start() -> None:
            if name == "kafka" and "kafka-refused" not in started:
                started.append("kafka-refused")
                raise RuntimeError("port 9092 is taken\nmore")
            started.append(name)
            dead.discard(name)

        return start

    monkeypatch.setattr(watchdog, "dead_parts", lambda: sorted(dead))
    monkeypatch.setattr(watchdog, "_starter", starter)
    dog = watchdog.Watchdog()
    dog.heal(dog.look())
    # PostgreSQL before Kafka before the services; Kafka refused once, waits its back-off.
    assert started == ["postgres", "kafka-refused", "booking"]
    kafka = dog.parts["kafka"]
    assert (kafka.failures, kafka.last_error, kafka.restarts) == (1, "port 9092 is taken", 0)
    assert dog.look() == []  # not due yet
    kafka.not_before = 0.0
    dog.heal(dog.look())
    assert started[-1] == "kafka" and kafka.restarts == 1 and kafka.last_error == ""
    status = watchdog.watchdog_status()["parts"]
    assert {name: part["restarts"] for name, part in status.items()} == {
        "booking": 1, "kafka": 1, "postgres": 1,
    }  # fmt: skip
    # A part back by someone else's hand is not started again.
    dead.add("roster")
    dog.look()
    dead.discard("roster")
    dog.heal(["roster"])
    assert "roster" not in started and dog.parts["roster"].down_since is None
