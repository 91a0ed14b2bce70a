"""The service processes: their environment, start, health wait and stop (and stop_all)."""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from services.common.config import PROJECT_ROOT, settings
from services.common.token_keys import ensure_local_keys
from services.notifications.gateway.local import local_gateway_environment

from .kafka import kafka_bootstrap as local_bootstrap
from .kafka import stop_kafka
from .postgres import pg_port, pg_url, stop_postgres
from .process import forget_pid, port_released, running_pid, spawn, terminate, worker_pids
from .state import StackError, console, log_hint, state_dir

# Start order is also the order of the summary table.
SERVICES: dict[str, str] = {
    "booking": "services.booking",
    "roster": "services.roster",
    "notifications": "services.notifications",
    "projections": "services.projections",
    "web": "web",
    # GOV.UK Notify's stand-in: texts go to it, and it calls notifications back (a real key turns it off).
    "simulator": "services.notifications.gateway.simulator",
}
SERVICE_STOP_GRACE = 10.0


def token_secret() -> str:
    """The key of personal data's pseudonyms: APPOINTMENTS_TOKEN_SECRET, else one kept in the state.

    (Named from when it also signed tokens; tokens are JWTs signed with the key pair below.)
    """
    explicit = os.environ.get("APPOINTMENTS_TOKEN_SECRET")
    if explicit:
        return explicit
    path = state_dir() / "token-secret"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def stack_environment(kafka_bootstrap: str, postgres_url: str) -> dict[str, str]:
    """The APPOINTMENTS_* variables that point a process at this stack."""
    return {
        "APPOINTMENTS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "APPOINTMENTS_PG_URL": postgres_url,
        "APPOINTMENTS_TOKEN_SECRET": token_secret(),
        "APPOINTMENTS_STATE_DIR": str(state_dir()),
        **local_gateway_environment(
            state_dir(), settings().port("simulator"), settings().port("notifications")
        ),
    }


def service_pid(name: str) -> int | None:
    """The pid of a service this project started, if it runs."""
    return running_pid(name, SERVICES[name])


def _owner_pg_url() -> str:
    """The owner's PostgreSQL URL of this stack: APPOINTMENTS_PG_URL, else the local cluster's."""
    external = os.environ.get("APPOINTMENTS_PG_URL")
    if external:
        return external
    port = pg_port()
    if port is None:
        raise StackError("PostgreSQL has not been started; run `appointments up`")
    return pg_url(port)


def current_pg_url() -> str:
    """The PostgreSQL URL of this stack as shown: the owner's, its password masked."""
    parts = urlsplit(_owner_pg_url())
    if parts.password is None:
        return parts.geturl()
    server = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{server}").geturl()


def ensure_token_keys() -> None:
    """The local token key pair in the state folder (signing key mode 0600), made on first use."""
    if not settings().token_jwks_url:
        ensure_local_keys(settings().token_keys)


def start_services(
    kafka_bootstrap: str | None = None,
    postgres_url: str | None = None,
    names: Sequence[str] = tuple(SERVICES),
) -> None:
    """Start every service (of ``names``) not already running, detached, logging to the state folder."""
    # Made before any service starts, so they all find the one pair rather than race to make it.
    ensure_token_keys()
    env = dict(os.environ)
    kafka_bootstrap = kafka_bootstrap or local_bootstrap()
    env.update(stack_environment(kafka_bootstrap, postgres_url or _owner_pg_url()))
    env["PYTHONUNBUFFERED"] = "1"
    for name in names:
        module = SERVICES[name]
        if service_pid(name) is not None:
            continue
        port = settings().port(name)
        if not port_released(port):
            raise StackError(
                f"port {port} ({name}) is taken by a program this project did not start; "
                f"stop it or set APPOINTMENTS_{name.upper()}_PORT"
            )
        spawn(name, [sys.executable, "-m", module], env, PROJECT_ROOT)
        workers = f" ({settings().booking_workers} workers)" if name == "booking" else ""
        console.print(f"Started {name} on port {port}{workers}")


def health_url(name: str) -> str:
    """The /health URL of service ``name``."""
    return f"http://127.0.0.1:{settings().port(name)}/health"


def service_health(client: httpx.Client, name: str) -> tuple[bool, str]:
    """/health of service ``name``, of every worker when it runs several: (healthy, detail)."""
    pid = service_pid(name)
    workers = worker_pids(pid) if pid is not None else set()
    if len(workers) < 2:
        return _probe(client, name)[:2]
    healthy: set[int] = set()
    trouble = ""
    # Each probe on a new connection, which the kernel gives to whichever worker accepts it.
    for _ in range(8 * len(workers)):
        ok, detail, served_by = _probe(client, name, headers={"connection": "close"})
        if ok:
            healthy.add(served_by)
        else:
            trouble = f"; {detail}"
        if workers <= healthy:
            return True, f"healthy ({len(workers)} workers)"
    return False, f"{len(workers & healthy)} of {len(workers)} workers healthy{trouble}"


def _probe(client: httpx.Client, name: str, headers: dict[str, str] | None = None) -> tuple[bool, str, int]:
    # (healthy, detail, pid of the process that answered or 0)
    try:
        response = client.get(health_url(name), headers=headers)
    except httpx.HTTPError as exc:
        return False, type(exc).__name__, 0
    served_by = int(response.headers.get("x-served-by", 0))
    if response.status_code == 200:
        return True, "healthy", served_by
    return False, f"{response.status_code} {' '.join(response.text.split())[:60]}", served_by


def wait_healthy(timeout: float = 120.0, names: Sequence[str] = tuple(SERVICES)) -> None:
    """Poll each service's /health until 200; on failure print its log tail and raise."""
    waiting = set(names)
    deadline = time.monotonic() + timeout
    failed: dict[str, str] = {}
    with (
        httpx.Client(timeout=2.0) as client,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress,
    ):
        tasks = {name: progress.add_task(f"{name}: starting", total=1) for name in names}
        while waiting and not failed:
            for name in sorted(waiting):
                healthy, detail = service_health(client, name)
                if healthy:
                    waiting.discard(name)
                    progress.update(tasks[name], description=f"{name}: healthy", completed=1)
                elif service_pid(name) is None:
                    failed[name] = "exited"
                else:
                    progress.update(tasks[name], description=f"{name}: {detail}")
            if waiting and time.monotonic() > deadline:
                failed.update({name: f"not healthy after {timeout:.0f}s" for name in waiting})
            if waiting and not failed:
                time.sleep(0.5)
    for name, why in failed.items():
        console.print(f"{name} {why}", style="red", markup=False)
        # Log text is not rich markup: brackets in it must print as they are.
        console.print(log_hint(name), markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise StackError(f"services not healthy: {', '.join(sorted(failed))}")


def stop_services() -> None:
    """SIGTERM every service this project started, SIGKILL what still runs after 10 s."""
    pids = {name: pid for name in SERVICES if (pid := service_pid(name)) is not None}
    if pids:
        console.print(f"Stopping {', '.join(pids)} ...")
        terminate(pids, SERVICE_STOP_GRACE)
    for name in SERVICES:
        forget_pid(name)


def stop_all() -> None:
    """Stop the services, then PostgreSQL, then Kafka."""
    stop_services()
    stop_postgres()
    stop_kafka()
