"""`up`, `status` and the watchdog take a recorded pid for the part only while it is the process started.

Real processes, no stand-ins: a child left unreaped (a zombie, which kill(pid, 0) still finds),
a live process running another program, and one whose start time is not the one recorded.
"""

from __future__ import annotations

import os
import signal
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


def test_a_service_is_hung_only_after_answering_no_probe_for_the_whole_while() -> None:
    after = 30.0
    starting = watchdog.heard(None, 41, answered=False, now=100.0)
    assert not watchdog.hung(starting, 1_000.0, after)  # never answered yet: still starting
    silence = watchdog.heard(watchdog.heard(None, 41, True, 90.0), 41, answered=False, now=100.0)
    assert not watchdog.hung(silence, 129.9, after) and watchdog.hung(silence, 130.0, after)
    silence = watchdog.heard(silence, 41, answered=False, now=125.0)  # still silent: since 100
    assert silence.since == 100.0
    silence = watchdog.heard(silence, 41, answered=True, now=126.0)  # any answer, even a 503
    assert not watchdog.hung(silence, 200.0, after)
    # Another process of the service (started again) starts afresh.
    silence = watchdog.heard(watchdog.heard(None, 41, True, 100.0), 57, answered=False, now=150.0)
    assert (silence.pid, silence.since, silence.answered) == (57, 150.0, False)
    assert not watchdog.hung(silence, 1_000.0, 0.0)  # 0: never taken for hung
    assert not watchdog.hung(None, 1_000.0, after)


def test_a_service_that_answers_nothing_for_too_long_is_killed_to_be_started_again(state: Path) -> None:
    # A real process that lives on and answers nothing, as the roster service's recorded process.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)  # services.roster"])
    try:
        os.kill(child.pid, signal.SIGSTOP)  # hung: alive, and deaf even to SIGTERM
        process.record_pid("roster", child.pid)
        dog = watchdog.Watchdog(watchdog.WatchdogSettings(hung_seconds=30.0))
        assert dog.prober is not None
        now = time.monotonic()
        dog.prober._silences["roster"] = watchdog.Silence(child.pid, since=now - 10.0, answered=True)
        dog.kill_hung()  # silent for 10 s of 30: left alone
        assert child.poll() is None
        dog.prober._silences["roster"] = watchdog.Silence(child.pid, since=now - 31.0, answered=True)
        dog.kill_hung()
        assert child.wait(timeout=10) == -9  # SIGKILLed: the watchdog's loop then sees a death
        assert dog.part("roster").hangs == 1 and "roster" not in dog.prober.silences()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
