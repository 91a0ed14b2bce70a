"""Start the real service processes for a test, each on a free port, and stop or kill them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.common.auth import Role
from services.common.reference import County, load_county
from services.common.token_keys import local_issuer

# The key of personal data's pseudonyms in the test services (tokens are signed with the state
# folder's key pair, which test services and the local stack share).
TEST_SECRET = "integration-test-secret"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def token(role: Role, subject: str = "test") -> str:
    """A bearer token the test services accept: signed with the state folder's key, as locally."""
    return local_issuer().token(role, subject)


def auth(role: Role, subject: str = "test") -> dict[str, str]:
    """An Authorization header for ``role``."""
    return {"Authorization": f"Bearer {token(role, subject)}"}


@dataclass
class ServiceProcess:
    """One service running as its own process, as in production."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self, wait_seconds: float = 60.0) -> ServiceProcess:
        """Start the process and wait until /health answers 200."""
        log = self.log_path.open("ab")
        # Popen returns at once; only waiting on the child would block the loop.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            # The pages are the `web` package; every other service is services.<name>.
            [sys.executable, "-m", "web" if self.name == "web" else f"services.{self.name}"],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + wait_seconds
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
                try:
                    if (await client.get(f"{self.url}/health", timeout=2)).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name} not healthy: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; the crash the outbox must survive."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM and wait, as `make down` does."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def service(name: str, log_dir: Path, **extra_env: str) -> ServiceProcess:
    """A not-yet-started service process configured from this test run's environment."""
    port = free_port()
    env = {
        **os.environ,
        "APPOINTMENTS_TOKEN_SECRET": TEST_SECRET,
        f"APPOINTMENTS_{name.upper()}_PORT": str(port),
        "APPOINTMENTS_LOG_JSON": "true",
        # One booking process unless a test asks for more: tests seed the county over HTTP
        # (one process), and a booking process reads the county only when it starts.
        "APPOINTMENTS_BOOKING_WORKERS": "1",
        **extra_env,
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    return ServiceProcess(name, port, env, log_dir / f"{name}-{port}.log")


async def seed_county(booking: ServiceProcess, county: County | None = None) -> str:
    """Load the county's reference data into a booking service, as `appointments seed` does.

    Returns the sha256 of the version booking holds (the roster follows it from booking.events).
    """
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.ADMIN, "seed")) as client:
        response = await client.put(
            "/reference/county",
            content=(county or load_county()).model_dump_json(),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 200, response.text
    sha256: str = response.json()["sha256"]
    return sha256


async def wait_for_roster_county(roster: ServiceProcess, sha256: str, wait_seconds: float = 60) -> None:
    """Wait until the roster holds the county version booking recorded (``sha256``)."""
    deadline = time.monotonic() + wait_seconds
    held = "nothing"
    async with httpx.AsyncClient(base_url=roster.url, headers=auth(Role.SUPERVISOR)) as client:
        while time.monotonic() < deadline:
            response = await client.get("/reference/county")
            if response.status_code == 200:
                held = response.json()["sha256"]
                if held == sha256:
                    return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the roster never took county version {sha256[:12]} (it holds {held[:12]})")


async def wait_for_capacity(
    booking: ServiceProcess, station: str, day: str, wait_seconds: float = 60
) -> None:
    """Wait until booking has read the roster and offers slots at ``station`` on ``day``."""
    deadline = time.monotonic() + wait_seconds
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        while time.monotonic() < deadline:
            response = await client.get(f"/stations/{station}/free-slots?from={day}&to={day}")
            if response.status_code == 200 and response.json():
                return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"booking never offered a slot at {station} on {day}")


async def wait_for_county(
    projections: ServiceProcess, station: str, day: str, wait_seconds: float = 60
) -> None:
    """Wait until the projections have read the county, so a diary answers rather than 503."""
    deadline = time.monotonic() + wait_seconds
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        while time.monotonic() < deadline:
            response = await client.get(f"/diaries/stations/{station}/{day}")
            if response.status_code != 503:
                return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the projections never read the county (station {station})")


def child_pids(parent: int) -> set[int]:
    """The live (not zombie) processes whose parent is ``parent``, read from /proc."""
    found: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError, ValueError):
            continue  # it ended while we looked
        if int(ppid) == parent and state != "Z":
            found.add(int(stat.parent.name))
    return found


def worker_pids(supervisor: ServiceProcess) -> set[int]:
    """The uvicorn worker processes a service's supervisor runs (not its resource tracker)."""
    assert supervisor.process is not None
    workers: set[int] = set()
    for pid in child_pids(supervisor.process.pid):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.add(pid)
        except OSError:
            continue
    return workers


async def wait_for_workers(svc: ServiceProcess, count: int, wait_seconds: float = 90) -> set[int]:
    """Wait until ``count`` workers run and each has answered /health 200; returns their pids."""
    deadline = time.monotonic() + wait_seconds
    healthy: set[int] = set()
    workers: set[int] = set()
    # A new connection per probe: the kernel gives each to whichever worker accepts it.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=svc.url, limits=limits) as client:
        while time.monotonic() < deadline:
            workers = worker_pids(svc)
            if len(workers) == count and workers <= healthy:
                return workers
            try:
                response = await client.get("/health", timeout=2)
                if response.status_code == 200:
                    healthy.add(int(response.headers["x-served-by"]))
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{svc.name}: workers {sorted(workers)}, healthy {sorted(healthy)}")
