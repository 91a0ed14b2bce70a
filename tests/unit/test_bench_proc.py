"""The bench's /proc readings on a fake /proc: a service's whole process tree, and its workers."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import proctree
from bench.client import Answer
from bench.workers import on_every_worker, worker_pids

TICKS = proctree.CLOCK_TICKS


def _process(
    proc: Path,
    pid: int,
    ppid: int,
    cpu: tuple[int, int, int, int],
    children: dict[int, list[int]] | None = None,
    cmdline: bytes = b"python\0-m\0services.booking\0",
) -> None:
    """A process under ``proc``: its stat (utime, stime, cutime, cstime in seconds) and its threads."""
    utime, stime, cutime, cstime = (n * TICKS for n in cpu)
    root = proc / str(pid)
    root.mkdir(parents=True)
    (root / "stat").write_text(
        f"{pid} (python3 x) S {ppid} {pid} {pid} 0 -1 4194560 100 0 0 0 {utime} {stime} {cutime} {cstime} "
        "20 0 1 0 100 1000 10\n"
    )
    (root / "cmdline").write_bytes(cmdline)
    # Without ``children`` the kernel has no children files (no CONFIG_PROC_CHILDREN).
    for tid, kids in (children or {}).items():
        (root / "task" / str(tid)).mkdir(parents=True)
        (root / "task" / str(tid) / "children").write_text(" ".join(map(str, kids)) + (" " if kids else ""))


SPAWNED = b"python\0-c\0from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5)\0"
TRACKER = b"python\0-c\0from multiprocessing.resource_tracker import main;main(4)\0"


def _supervised(proc: Path, *, children_files: bool) -> None:
    """A supervisor 100 (two threads) with workers 200 and 201 and a resource tracker 202;
    worker 200 forked a helper 300; 400 is someone else's process."""

    def kids(by_thread: dict[int, list[int]]) -> dict[int, list[int]] | None:
        return by_thread if children_files else None

    _process(proc, 100, 1, (1, 1, 5, 0), kids({100: [200, 202], 101: [201]}))
    _process(proc, 200, 100, (10, 2, 0, 0), kids({200: [300]}), SPAWNED)
    _process(proc, 201, 100, (7, 1, 0, 1), kids({201: []}), SPAWNED)
    _process(proc, 202, 100, (0, 1, 0, 0), kids({202: []}), TRACKER)
    _process(proc, 300, 200, (3, 0, 0, 0), kids({300: []}))
    _process(proc, 400, 1, (50, 50, 0, 0), kids({400: []}))


@pytest.mark.parametrize("children_files", [True, False], ids=["children files", "ppid scan"])
def test_a_service_costs_the_cpu_of_its_whole_tree(tmp_path: Path, children_files: bool) -> None:
    _supervised(tmp_path, children_files=children_files)
    assert proctree.tree(100, tmp_path) == [100, 200, 201, 202, 300]
    # 100: 1+1 own + 5 reaped; 200: 12; 201: 9; 202: 1; 300: 3 — and nothing of 400's.
    assert proctree.tree_cpu(100, tmp_path) == pytest.approx(7 + 12 + 9 + 1 + 3)
    assert proctree.tree_cpu(200, tmp_path) == pytest.approx(15)


def test_a_worker_that_appears_between_two_samples_is_counted(tmp_path: Path) -> None:
    _supervised(tmp_path, children_files=True)
    before = proctree.tree_cpu(100, tmp_path)
    _process(tmp_path, 203, 100, (4, 0, 0, 0), {203: []}, SPAWNED)
    (tmp_path / "100" / "task" / "101" / "children").write_text("201 203 ")
    after = proctree.tree_cpu(100, tmp_path)
    assert before is not None and after is not None
    assert after - before == pytest.approx(4)


def test_a_tree_whose_root_is_gone_has_no_cpu(tmp_path: Path) -> None:
    _supervised(tmp_path, children_files=True)
    assert proctree.tree_cpu(999, tmp_path) is None


def test_the_workers_are_the_spawned_children_not_the_resource_tracker(tmp_path: Path) -> None:
    _supervised(tmp_path, children_files=True)
    assert worker_pids(100, tmp_path) == {200, 201}
    # One process serving alone is its own worker.
    assert worker_pids(400, tmp_path) == {400}


@pytest.fixture
def lone_process() -> Iterator[subprocess.Popen[bytes]]:
    """A process with no children: a service serving in one process."""
    process = subprocess.Popen(["sleep", "30"])
    yield process
    process.kill()
    process.wait()


async def test_every_worker_is_done_once_each_has_answered(
    lone_process: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    calls = 0

    async def send() -> Answer:
        nonlocal calls
        calls += 1
        # The first answer is a refusal (still starting); the second, from the process, counts.
        status = 503 if calls == 1 else 200
        return Answer(status, {"x-served-by": str(lone_process.pid)}, b"")

    await on_every_worker(lone_process, tmp_path / "x.log", send, seconds=30, what="health")
    assert calls == 2


async def test_fewer_workers_than_expected_never_count_as_every_worker(
    lone_process: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    async def send() -> Answer:
        return Answer(200, {"x-served-by": str(lone_process.pid)}, b"")

    with pytest.raises(RuntimeError, match="1 of 2 workers answered"):
        await on_every_worker(lone_process, tmp_path / "x.log", send, seconds=0.5, what="health", expected=2)
