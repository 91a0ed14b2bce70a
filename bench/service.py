"""A service of the project run as a subprocess of the bench, on its own port, databases and topics."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from services.common.config import PROJECT_ROOT

STOP_SECONDS = 20.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def service_process(module: str, env: Mapping[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python -m <module>` with ``env`` added, its output to ``log_path``; stop it after."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a supervisor expects (it stops its workers), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a service's log, for an error message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def check_alive(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """RuntimeError with the log's tail when the service has exited."""
    if process.poll() is not None:
        raise RuntimeError(f"{log_path.stem} exited ({process.returncode}):\n{tail(log_path)}")
