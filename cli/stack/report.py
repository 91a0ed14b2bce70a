"""What `appointments status` and `up` print: the health table, the summary and tokens."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from rich.console import Console
from rich.table import Table

from services.common.auth import Role
from services.common.config import settings
from services.common.token_keys import DEFAULT_TTL, local_issuer
from web.sign_in import ensure_local_users, passwords_path

from .kafka import kafka_bootstrap, kafka_brokers_answering, kafka_nodes, kafka_pids
from .pg_setup import pg_bin_dir
from .postgres import pg_port, pg_ready, postgres_pid, postgres_running
from .services import SERVICES, current_pg_url, health_url, service_health, service_pid
from .state import state_dir
from .watchdog import watchdog_pid, watchdog_status

# The tokens `make run` prints last a local shift; `appointments token` gives others.
SUMMARY_TOKEN_TTL = DEFAULT_TTL


@dataclass(frozen=True)
class Health:
    """One process of the stack as `appointments status` shows it."""

    name: str
    pid: int | None
    address: str
    healthy: bool
    detail: str


def stack_health() -> list[Health]:
    """What runs and whether it answers, for `appointments status`."""
    rows: list[Health] = []
    nodes, pids = kafka_nodes(), kafka_pids()
    answering = kafka_brokers_answering(kafka_bootstrap())
    for node in nodes:
        # A cluster answers as a whole: each node is up when its process runs and the cluster answers.
        up = answering > 0 and (node.name in pids or len(nodes) == 1)
        detail = "answers" if len(nodes) == 1 else f"{answering} of {len(nodes)} nodes in the cluster"
        address = f"127.0.0.1:{node.port}"
        rows.append(Health(node.name, pids.get(node.name), address, up, detail if up else "down"))
    port = pg_port()
    bin_dir = pg_bin_dir()
    ready = bool(port and bin_dir and postgres_running() and pg_ready(bin_dir, port))
    address = f"127.0.0.1:{port}" if port else "-"
    rows.append(Health("postgres", postgres_pid(), address, ready, "ready" if ready else "down"))
    with httpx.Client(timeout=2.0) as client:
        for name in SERVICES:
            healthy, detail = service_health(client, name)
            rows.append(Health(name, service_pid(name), health_url(name), healthy, detail))
    rows.append(_watchdog_row())
    return rows


def _watchdog_row() -> Health:
    """The watchdog: whether it watches, and which parts it has started again (how often, last when)."""
    pid = watchdog_pid()
    if pid is None:
        return Health("watchdog", None, "-", False, "not running: nothing restarts a part that dies")
    parts = watchdog_status().get("parts", {})
    restarted = [
        f"{name} {part['restarts']}x (last {part['last_restart'][11:19]}"
        + (f", {part['hangs']} hung)" if part.get("hangs") else ")")
        for name, part in parts.items()
        if part.get("restarts")
    ]
    failing = [f"{name}: {part['last_error']}" for name, part in parts.items() if part.get("last_error")]
    detail = "watching; " + (f"restarted {', '.join(restarted)}" if restarted else "no restarts")
    if failing:
        detail += f"; cannot start {'; '.join(failing)}"
    return Health("watchdog", pid, "-", True, detail)


def print_status() -> bool:
    """Print the status table; returns whether everything is healthy."""
    table = Table(title="Station Appointments: local stack")
    for column in ("process", "pid", "address"):
        table.add_column(column, no_wrap=True)
    table.add_column("state")
    rows = stack_health()
    for row in rows:
        state = f"[green]{row.detail}[/green]" if row.healthy else f"[red]{row.detail}[/red]"
        table.add_row(row.name, str(row.pid or "-"), row.address, state)
    Console().print(table)
    return all(row.healthy for row in rows)


def _print_people(out: Console) -> None:
    """Who may sign in to the pages locally, with their passwords (made on the pages' first start)."""
    cfg = settings()
    ensure_local_users(cfg)  # the pages make them too; whoever is first
    web = cfg.port("web")
    out.print(f"\nSign in to the pages at http://127.0.0.1:{web} as one of (user, role, password):")
    for line in passwords_path(cfg).read_text().splitlines():
        user, role, password = line.split("\t")
        out.print(f"  {user:<10} {role:<11} {password}", soft_wrap=True, highlight=False)
    out.print(f"(kept in {passwords_path(cfg)}, readable by you only)", highlight=False)


def print_summary() -> None:
    """Print where everything listens and one bearer token per role."""
    out = Console()
    table = Table(title="Station Appointments is up")
    table.add_column("service")
    table.add_column("address")
    for name in SERVICES:
        port = settings().port(name)
        table.add_row(name, f"http://127.0.0.1:{port}  (/health /openapi.json /metrics)")
    table.add_row("kafka", kafka_bootstrap())
    table.add_row("postgres", current_pg_url())
    out.print(table)
    issuer = local_issuer()
    hours = SUMMARY_TOKEN_TTL.total_seconds() / 3600
    # Plain lines, never wrapped: a token broken over two lines cannot be pasted.
    out.print(f"\nBearer tokens, one per role, valid {hours:g} hours (paste into a shell):", soft_wrap=True)
    for role in Role:
        token = issuer.token(role, f"local-{role.value}", SUMMARY_TOKEN_TTL)
        out.print(f"  export TOKEN_{role.name}={token}", soft_wrap=True)
    _print_people(out)
    roster = settings().port("roster")
    out.print(
        "More, or for someone in particular: appointments token ROLE [--sub COLLAR] [--ttl 30m]\n"
        "\nThen, for example:\n"
        f'  curl -H "Authorization: Bearer $TOKEN_SUPERVISOR" "http://127.0.0.1:{roster}/duties'
        '?place=station&place_id=stevenage&day=$(date +%F)"\n'
        f"Logs: {state_dir() / 'logs'} (make logs).  Stop: appointments down (make down).",
        soft_wrap=True,
        highlight=False,
    )
