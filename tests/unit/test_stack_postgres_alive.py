"""`up` never takes a killed postmaster, still a zombie for a moment, for a live cluster."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from cli.stack import postgres


def _zombie() -> subprocess.Popen[bytes]:
    """A child that has exited but is not reaped yet: kill(pid, 0) still finds it."""
    child = subprocess.Popen(["true"])
    for _ in range(1000):  # it exits at once; up to 10 s on a very busy machine
        if Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return child
        time.sleep(0.01)
    raise AssertionError("the child never exited")


def _cluster(root: Path, pid: int) -> None:
    data = root / "pg" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")
    (data / "postmaster.pid").write_text(f"{pid}\n/data\n")


def test_a_zombie_postmaster_is_not_a_running_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = _zombie()
    try:
        _cluster(tmp_path, child.pid)
        monkeypatch.setattr(postgres, "state_dir", lambda: tmp_path)
        monkeypatch.setattr(postgres, "pg_bin_dir", lambda: tmp_path)
        # pg_ctl status, as it answers for a zombie: kill(pid, 0) succeeds, "server is running".
        monkeypatch.setattr(postgres, "pg_command", lambda _bin, *_args: ["true"])
        assert postgres.postgres_pid() is None
        assert not postgres.postgres_running()
    finally:
        child.wait()
    # Once reaped and replaced by a live postmaster, the cluster runs.
    monkeypatch.setattr(postgres, "postgres_pid", lambda: 1)
    assert postgres.postgres_running()
