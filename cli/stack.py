"""The local stack without Docker: a KRaft Kafka broker, a PostgreSQL cluster and the services.

Everything lives in the state folder (``settings().state_dir``, default ``<repo>/.state``):

    kafka/libs  kafka/data  kafka/server.properties  kafka/cluster-id   m2/
    pg/data  pg/run  pg/port    logs/<name>.log    run/<name>.pid    token-secret

Every ``ensure_*`` is idempotent: what already runs is reused, never restarted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import glob
import hashlib
import logging
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from schemas.topics import TOPICS, topic_configs
from services.common.auth import Role, issue_token
from services.common.config import PROJECT_ROOT, settings

console = Console(stderr=True)

KAFKA_DEPLOY = PROJECT_ROOT / "deploy" / "kafka"
PG_USER = "appointments"
PG_OS_USER = "postgres"
# Start order is also the order of the summary table.
SERVICES: dict[str, str] = {
    "booking": "services.booking",
    "roster": "services.roster",
    "notifications": "services.notifications",
    "projections": "services.projections",
    "web": "web",
}
SERVICE_STOP_GRACE = 10.0
KAFKA_STOP_GRACE = 30.0

# Kafka error codes ensure_topics must tell apart.
_TOPIC_ALREADY_EXISTS = 36
# A freshly started KRaft broker answers before it is unfenced; these clear within seconds.
_RETRIABLE_TOPIC_ERRORS = {5, 7, 38, 41, 51}  # leader n/a, timeout, replication factor, ...


class StackError(RuntimeError):
    """The local stack could not be brought to the wanted state; the message says why."""


@dataclass(frozen=True)
class Health:
    """One process of the stack as `appointments status` shows it."""

    name: str
    pid: int | None
    address: str
    healthy: bool
    detail: str


# --------------------------------------------------------------------------- paths


def state_dir() -> Path:
    """The state folder, created on first use."""
    path = settings().state_dir.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _dir(*parts: str) -> Path:
    path = state_dir().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file(name: str) -> Path:
    """Where a process of the stack writes its output."""
    return _dir("logs") / f"{name}.log"


def _pid_file(name: str) -> Path:
    return _dir("run") / f"{name}.pid"


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file (empty when it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- processes

# Children this process started: polling them reaps them, else a dead child would
# linger as a zombie that kill(pid, 0) still reports alive.
_children: dict[int, subprocess.Popen[bytes]] = {}


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return status != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def running_pid(name: str, marker: str) -> int | None:
    """The pid recorded for ``name`` if that process still runs and is what we started."""
    try:
        pid = int(_pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None
    if not _alive(pid):
        return None
    command = _cmdline(pid)
    # Pids get reused: a live pid running something else is not ours.
    if command and marker not in command:
        return None
    return pid


def _spawn(name: str, command: Sequence[str], env: dict[str, str], cwd: Path) -> int:
    log_path = log_file(name)
    # One log per run, the previous kept beside it: a failure's tail is then this run's.
    if log_path.exists():
        log_path.replace(log_path.with_name(f"{name}.log.1"))
    with log_path.open("ab") as log:
        child = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            # Its own session: Ctrl-C in the terminal that ran `up` must not reach it.
            start_new_session=True,
        )
    _children[child.pid] = child
    _pid_file(name).write_text(f"{child.pid}\n")
    return child.pid


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # Each process leads its own group (start_new_session); signal helpers it forked too.
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _terminate(pids: dict[str, int], grace: float) -> None:
    for pid in pids.values():
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids.values()):
        time.sleep(0.2)
    for name, pid in pids.items():
        if _alive(pid):
            console.print(f"[yellow]{name} ignored SIGTERM for {grace:.0f}s; killing it")
            _signal(pid, signal.SIGKILL)
    for pid in pids.values():
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
        _children.pop(pid, None)


_lock_depth = 0


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Hold the state folder's lock: one process at a time starts or stops servers."""
    global _lock_depth
    # flock is per open file: taking it again in the same process would wait for ever.
    if _lock_depth:
        _lock_depth += 1
        try:
            yield
        finally:
            _lock_depth -= 1
        return
    with (_dir("run") / "stack.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _lock_depth = 1
        try:
            yield
        finally:
            _lock_depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


# A lease says "I use the local servers": `up` holds `stack` until `down`; a test session
# holds one while it runs. Servers a test session started are stopped by the last lease out.
STACK_LEASE = "stack"


def _leases() -> Path:
    return _dir("run", "leases")


def take_lease(name: str) -> None:
    """Record that ``name`` (this process) uses the local servers."""
    (_leases() / name).write_text(f"{os.getpid()}\n")


def release_lease(name: str) -> None:
    """Drop the lease ``name``."""
    (_leases() / name).unlink(missing_ok=True)


def other_leases(name: str) -> list[str]:
    """Leases still held besides ``name``: `stack` always, others while their process lives."""
    held = []
    for path in _leases().iterdir():
        if path.name == name:
            continue
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if path.name == STACK_LEASE or (pid and _alive(pid)):
            held.append(path.name)
        else:
            path.unlink(missing_ok=True)
    return held


def _port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers do; else connections of a just-stopped server (TIME_WAIT) block the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return not _port_in_use(port)


def _run(command: Sequence[str], what: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=cwd,
            check=False,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise StackError(f"{what}: {command[0]} not found") from exc
    if done.returncode != 0:
        output = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        raise StackError(f"{what} failed (exit {done.returncode}):\n{output}")
    return done.stdout


# --------------------------------------------------------------------------- Kafka


def kafka_port() -> int:
    """The broker port: that of APPOINTMENTS_KAFKA_BOOTSTRAP (first host), default 9092."""
    first = settings().kafka_bootstrap.split(",")[0].strip()
    _, _, port = first.rpartition(":")
    return int(port) if port.isdigit() else 9092


def kafka_pid() -> int | None:
    """The pid of the broker this project started, if it runs."""
    return running_pid("kafka", "kafka.Kafka")


@contextlib.contextmanager
def _quiet_aiokafka() -> Iterator[None]:
    # Probing a broker that is still starting makes aiokafka log a connection error per try.
    logger = logging.getLogger("aiokafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _broker_count(bootstrap: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
    except Exception:
        return 0
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    if int(cluster.get("controller_id", -1)) < 0:
        return 0
    return len(cluster.get("brokers", []))


def kafka_answers(bootstrap: str) -> bool:
    """Whether a broker at ``bootstrap`` answers a metadata request with a live cluster."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    if not _port_in_use(int(port), host or "127.0.0.1"):
        return False
    with _quiet_aiokafka():
        return asyncio.run(_broker_count(bootstrap)) > 0


def wait_for_kafka(bootstrap: str, timeout: float = 120.0, pid: int | None = None) -> None:
    """Block until the broker answers; fail early if the process ``pid`` dies."""
    deadline = time.monotonic() + timeout
    while not kafka_answers(bootstrap):
        if pid is not None and not _alive(pid):
            raise StackError(f"Kafka exited while starting; {_log_hint('kafka')}")
        if time.monotonic() > deadline:
            raise StackError(f"Kafka did not answer on {bootstrap} in {timeout:.0f}s")
        time.sleep(0.5)


def _log_hint(name: str) -> str:
    path = log_file(name)
    # The broker's own log4j output goes to broker.log; kafka.log only holds its stdout.
    if name == "kafka" and not tail(path).strip():
        path = log_file("broker")
    return f"last lines of {path}:\n{tail(path)}"


def _kafka_libs() -> Path:
    libs = _dir("kafka") / "libs"
    if libs.is_dir() and any(libs.glob("*.jar")):
        return libs
    if shutil.which("mvn") is None:
        raise StackError("mvn (Apache Maven) is needed to fetch the Kafka broker; install it")
    console.print("Fetching the Kafka broker jars with Maven (once) ...")
    # Into a side folder first: an interrupted fetch must not pass for a complete one.
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    _run(
        [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(KAFKA_DEPLOY / "pom.xml"),
            f"-Dmaven.repo.local={_dir('m2')}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
        ],
        "fetching the Kafka jars with mvn",
    )
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    return libs


def _cluster_id() -> str:
    path = _dir("kafka") / "cluster-id"
    if path.exists():
        return path.read_text().strip()
    # Kafka's own format: 16 random bytes, base64url without padding, never starting
    # with "-" (a command line would read it as an option).
    while True:
        cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster.startswith("-"):
            break
    path.write_text(cluster + "\n")
    return cluster


def _render_server_properties(port: int, data: Path) -> Path:
    template = (KAFKA_DEPLOY / "server.properties").read_text()
    rendered = (
        template.replace("__CONTROLLER_PORT__", str(port + 1))
        .replace("__PORT__", str(port))
        .replace("__LOG_DIRS__", str(data))
    )
    target = _dir("kafka") / "server.properties"
    target.write_text(rendered)
    return target


def ensure_kafka(timeout: float = 120.0) -> str:
    """Start the local KRaft broker unless it already runs; returns its bootstrap address."""
    port = kafka_port()
    bootstrap = f"127.0.0.1:{port}"
    pid = kafka_pid()
    if pid is not None:
        wait_for_kafka(bootstrap, timeout, pid)
        return bootstrap
    for busy in (port, port + 1):
        if _port_in_use(busy):
            raise StackError(
                f"port {busy} is taken by a program that is not this project's Kafka broker "
                f"(the broker needs {port} and {port + 1}). Stop that program, or choose "
                "another port with APPOINTMENTS_KAFKA_BOOTSTRAP=127.0.0.1:<port>."
            )
    java = shutil.which("java")
    if java is None:
        raise StackError("java (17 or newer) is needed to run the Kafka broker; install it")
    libs = _kafka_libs()
    data = _dir("kafka", "data")
    properties = _render_server_properties(port, data)
    classpath = f"{libs}/*"
    if not (data / "meta.properties").exists():
        _run(
            [
                java,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                "-t",
                _cluster_id(),
                "-c",
                str(properties),
            ],
            "formatting the Kafka storage",
        )
    command = [
        java,
        "-Xms256m",
        "-Xmx1g",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dkafka.logs.dir={_dir('logs')}",
        f"-Dlog4j2.configurationFile={KAFKA_DEPLOY / 'log4j2.properties'}",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(properties),
    ]
    console.print(f"Starting Kafka on {bootstrap} ...")
    pid = _spawn("kafka", command, dict(os.environ), _dir("kafka"))
    wait_for_kafka(bootstrap, timeout, pid)
    return bootstrap


def stop_kafka() -> None:
    """Stop the broker this project started (SIGTERM, then SIGKILL after 30 s)."""
    pid = kafka_pid()
    if pid is not None:
        console.print("Stopping Kafka ...")
        _terminate({"kafka": pid}, KAFKA_STOP_GRACE)
    _pid_file("kafka").unlink(missing_ok=True)


async def create_topics(bootstrap: str, retry_for: float = 60.0) -> list[str]:
    """Create the contract topics missing on the broker; returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        replicas = max(1, min(3, len(cluster.get("brokers", []))))
        pending = {spec.name: spec for spec in TOPICS}
        created: list[str] = []
        deadline = time.monotonic() + retry_for
        while pending:
            response = await admin.create_topics(
                [
                    NewTopic(
                        name=spec.name,
                        num_partitions=spec.partitions,
                        replication_factor=replicas,
                        topic_configs=topic_configs(spec),
                    )
                    for spec in pending.values()
                ]
            )
            retry = {}
            for name, code, *rest in response.topic_errors:
                if code == 0:
                    created.append(name)
                elif code == _TOPIC_ALREADY_EXISTS:
                    pass
                elif code in _RETRIABLE_TOPIC_ERRORS and time.monotonic() < deadline:
                    retry[name] = pending[name]
                else:
                    reason = rest[0] if rest and rest[0] else f"error code {code}"
                    raise StackError(f"creating topic {name} failed: {reason}")
            pending = retry
            if pending:
                await asyncio.sleep(0.5)
        return created
    finally:
        await admin.close()


def ensure_topics(bootstrap: str) -> list[str]:
    """Create every topic of schemas.topics.TOPICS that is missing (sync wrapper)."""
    return asyncio.run(create_topics(bootstrap))


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin_dir() -> Path | None:
    def version(path: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.split("/")[-3]))

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _pg_bin() -> Path:
    bin_dir = _pg_bin_dir()
    if bin_dir is not None:
        return bin_dir
    install = "apt-get update && apt-get install -y postgresql"
    if os.geteuid() != 0:
        raise StackError(f"PostgreSQL server binaries not found; install them: sudo sh -c '{install}'")
    console.print("PostgreSQL not found; installing the Debian package ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        done = subprocess.run(step, stdin=subprocess.DEVNULL, env=env, check=False)
        if done.returncode != 0:
            raise StackError(f"`{' '.join(step)}` failed (exit {done.returncode})")
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        raise StackError("the postgresql package installed but no initdb was found")
    return bin_dir


def _as_root() -> bool:
    return os.geteuid() == 0


def _pg_command(bin_dir: Path, tool: str, *args: str) -> list[str]:
    # PostgreSQL refuses to run as root; the Debian package's `postgres` user runs it instead.
    command = [str(bin_dir / tool), *args]
    return ["runuser", "-u", PG_OS_USER, "--", *command] if _as_root() else command


def _pg_user_can(test: str, path: Path) -> bool:
    if not _as_root():
        return True
    probe = ["runuser", "-u", PG_OS_USER, "--", "test", test, str(path)]
    return subprocess.run(probe, stdin=subprocess.DEVNULL, check=False).returncode == 0


def _chown_pg(*paths: Path) -> None:
    if _as_root():
        for path in paths:
            shutil.chown(path, PG_OS_USER, PG_OS_USER)


def _ensure_pg_os_user() -> None:
    if not _as_root():
        return
    if subprocess.run(["id", "-u", PG_OS_USER], capture_output=True, check=False).returncode:
        _run(["useradd", "--system", "--user-group", "--no-create-home", PG_OS_USER], "useradd")


def _pg_home() -> Path:
    """Where the cluster lives: <state>/pg, or a place the postgres user can reach."""
    link = state_dir() / "pg"
    if link.is_symlink() or link.exists():
        return link.resolve()
    link.mkdir()
    _chown_pg(link)
    if _pg_user_can("-w", link):
        return link
    # The checkout sits under a folder the postgres user cannot enter (e.g. /root):
    # keep the cluster in /var/lib and leave a link to it in the state folder.
    link.rmdir()
    key = hashlib.sha256(str(state_dir()).encode()).hexdigest()[:12]
    home = Path("/var/lib/station-appointments") / key / "pg"
    home.mkdir(parents=True, exist_ok=True)
    home.parent.chmod(0o755)
    home.parent.parent.chmod(0o755)
    _chown_pg(home)
    link.symlink_to(home, target_is_directory=True)
    return home


def _pg_log(home: Path) -> Path:
    log = log_file("postgres")
    log.touch()
    _chown_pg(log)
    if _pg_user_can("-w", log):
        return log
    log.unlink()
    target = home / "postgres.log"
    log.symlink_to(target)
    return target


def pg_port() -> int | None:
    """The port the local cluster was last started on, if any."""
    try:
        return int((state_dir() / "pg" / "port").read_text().strip())
    except (OSError, ValueError):
        return None


def pg_url(port: int) -> str:
    """The URL services get for the local cluster (no database name)."""
    return f"postgresql://{PG_USER}@127.0.0.1:{port}"


def postgres_running() -> bool:
    """Whether the local cluster in the state folder runs."""
    data = state_dir() / "pg" / "data"
    bin_dir = _pg_bin_dir()
    if bin_dir is None or not (data / "PG_VERSION").exists():
        return False
    status = subprocess.run(
        _pg_command(bin_dir, "pg_ctl", "-D", str(data.resolve()), "status"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return status.returncode == 0


def postgres_pid() -> int | None:
    """The postmaster's pid from its lock file, if the local cluster runs."""
    try:
        pid = int((state_dir() / "pg" / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def _pg_ready(bin_dir: Path, port: int) -> bool:
    ready = subprocess.run(
        [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", PG_USER],
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return ready.returncode == 0


def _wait_pg_ready(bin_dir: Path, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _pg_ready(bin_dir, port):
        if time.monotonic() > deadline:
            raise StackError(f"PostgreSQL is not ready on port {port}; {_log_hint('postgres')}")
        time.sleep(0.3)


def _choose_pg_port() -> int:
    remembered = pg_port()
    candidates: list[int] = [5432, *range(5433, 5500)]
    if remembered is not None:
        candidates.insert(0, remembered)
    for port in candidates:
        if _port_free(port):
            return port
    raise StackError("no free port for PostgreSQL in 5432..5499")


def _initdb(bin_dir: Path, home: Path, data: Path) -> None:
    console.print("Creating the PostgreSQL cluster (once) ...")
    last: StackError | None = None
    for locale in ("C.UTF-8", "C"):
        shutil.rmtree(data, ignore_errors=True)
        args = ["-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8", f"--locale={locale}"]
        try:
            _run(_pg_command(bin_dir, "initdb", *args), "initdb", cwd=home)
            return
        except StackError as exc:
            last = exc
    assert last is not None
    raise last


def ensure_postgres(timeout: float = 60.0) -> str:
    """Start the local PostgreSQL cluster unless it runs (or APPOINTMENTS_PG_URL names one)."""
    external = os.environ.get("APPOINTMENTS_PG_URL")
    if external:
        return external
    bin_dir = _pg_bin()
    _ensure_pg_os_user()
    home = _pg_home()
    data, sockets = home / "data", home / "run"
    if not (data / "PG_VERSION").exists():
        _initdb(bin_dir, home, data)
    sockets.mkdir(exist_ok=True)
    _chown_pg(home, sockets)
    port = pg_port()
    if postgres_running() and port is not None:
        _wait_pg_ready(bin_dir, port, timeout)
        return pg_url(port)
    port = _choose_pg_port()
    (home / "port").write_text(f"{port}\n")
    options = " ".join(
        [
            f"-p {port}",
            f"-k {shlex.quote(str(sockets))}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
            "-c fsync=on",
        ]
    )
    console.print(f"Starting PostgreSQL on 127.0.0.1:{port} ...")
    _run(
        _pg_command(
            bin_dir,
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(_pg_log(home)),
            "-w",
            "-t",
            str(int(timeout)),
            "-o",
            options,
            "start",
        ),
        f"starting PostgreSQL (see {log_file('postgres')})",
        cwd=home,
    )
    _wait_pg_ready(bin_dir, port, timeout)
    return pg_url(port)


def stop_postgres() -> None:
    """Stop the local cluster (pg_ctl stop -m fast) if it runs."""
    if not postgres_running():
        return
    bin_dir = _pg_bin_dir()
    assert bin_dir is not None
    home = (state_dir() / "pg").resolve()
    console.print("Stopping PostgreSQL ...")
    _run(
        _pg_command(bin_dir, "pg_ctl", "-D", str(home / "data"), "-m", "fast", "-w", "stop"),
        "stopping PostgreSQL",
        cwd=home,
    )


# --------------------------------------------------------------------------- services


def token_secret() -> str:
    """The HMAC secret of local tokens: APPOINTMENTS_TOKEN_SECRET, else one kept in the state."""
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
    }


def service_pid(name: str) -> int | None:
    """The pid of a service this project started, if it runs."""
    return running_pid(name, SERVICES[name])


def _current_pg_url() -> str:
    external = os.environ.get("APPOINTMENTS_PG_URL")
    if external:
        return external
    port = pg_port()
    if port is None:
        raise StackError("PostgreSQL has not been started; run `appointments up`")
    return pg_url(port)


def start_services(kafka_bootstrap: str | None = None, postgres_url: str | None = None) -> None:
    """Start every service not already running, detached, logging to the state folder."""
    env = dict(os.environ)
    kafka_bootstrap = kafka_bootstrap or f"127.0.0.1:{kafka_port()}"
    env.update(stack_environment(kafka_bootstrap, postgres_url or _current_pg_url()))
    env["PYTHONUNBUFFERED"] = "1"
    for name, module in SERVICES.items():
        if service_pid(name) is not None:
            continue
        port = settings().port(name)
        if _port_in_use(port):
            raise StackError(
                f"port {port} ({name}) is taken by a program this project did not start; "
                f"stop it or set APPOINTMENTS_{name.upper()}_PORT"
            )
        _spawn(name, [sys.executable, "-m", module], env, PROJECT_ROOT)
        console.print(f"Started {name} on port {port}")


def _health_url(name: str) -> str:
    return f"http://127.0.0.1:{settings().port(name)}/health"


def _health(client: httpx.Client, name: str) -> tuple[bool, str]:
    try:
        response = client.get(_health_url(name))
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    if response.status_code == 200:
        return True, "healthy"
    return False, f"{response.status_code} {' '.join(response.text.split())[:60]}"


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
                healthy, detail = _health(client, name)
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
        console.print(_log_hint(name), markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise StackError(f"services not healthy: {', '.join(sorted(failed))}")


def stop_services() -> None:
    """SIGTERM every service this project started, SIGKILL what still runs after 10 s."""
    pids = {name: pid for name in SERVICES if (pid := service_pid(name)) is not None}
    if pids:
        console.print(f"Stopping {', '.join(pids)} ...")
        _terminate(pids, SERVICE_STOP_GRACE)
    for name in SERVICES:
        _pid_file(name).unlink(missing_ok=True)


def stop_all() -> None:
    """Stop the services, then PostgreSQL, then Kafka."""
    stop_services()
    stop_postgres()
    stop_kafka()


# --------------------------------------------------------------------------- reporting


def stack_health() -> list[Health]:
    """What runs and whether it answers, for `appointments status`."""
    rows: list[Health] = []
    bootstrap = f"127.0.0.1:{kafka_port()}"
    pid = kafka_pid()
    answers = kafka_answers(bootstrap)
    rows.append(Health("kafka", pid, bootstrap, answers, "answers" if answers else "down"))
    port = pg_port()
    bin_dir = _pg_bin_dir()
    ready = bool(port and bin_dir and postgres_running() and _pg_ready(bin_dir, port))
    address = f"127.0.0.1:{port}" if port else "-"
    rows.append(Health("postgres", postgres_pid(), address, ready, "ready" if ready else "down"))
    with httpx.Client(timeout=2.0) as client:
        for name in SERVICES:
            healthy, detail = _health(client, name)
            rows.append(Health(name, service_pid(name), _health_url(name), healthy, detail))
    return rows


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


def print_summary() -> None:
    """Print where everything listens and one bearer token per role."""
    out = Console()
    table = Table(title="Station Appointments is up")
    table.add_column("service")
    table.add_column("address")
    for name in SERVICES:
        port = settings().port(name)
        table.add_row(name, f"http://127.0.0.1:{port}  (/health /openapi.json /metrics)")
    table.add_row("kafka", f"127.0.0.1:{kafka_port()}")
    table.add_row("postgres", _current_pg_url())
    out.print(table)
    secret = token_secret()
    # Plain lines, never wrapped: a token broken over two lines cannot be pasted.
    out.print("\nBearer tokens, one per role (paste into a shell):", soft_wrap=True)
    for role in Role:
        variable = "TOKEN_" + role.name
        out.print(f"  export {variable}={issue_token(role, f'local-{role.value}', secret)}", soft_wrap=True)
    roster = settings().port("roster")
    out.print(
        "\nThen, for example:\n"
        f'  curl -H "Authorization: Bearer $TOKEN_SUPERVISOR" http://127.0.0.1:{roster}/openapi.json\n'
        f"Logs: {state_dir() / 'logs'} (make logs).  Stop: appointments down (make down).",
        soft_wrap=True,
        highlight=False,
    )
