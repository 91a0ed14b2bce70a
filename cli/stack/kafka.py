"""The local KRaft Kafka broker: its jars from Maven Central, its storage, start and stop."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from services.common.config import PROJECT_ROOT, settings

from .process import alive, port_in_use, run, running_pid, spawn, terminate
from .state import StackError, console, log_hint, pid_file, subdir

KAFKA_DEPLOY = PROJECT_ROOT / "deploy" / "kafka"
KAFKA_STOP_GRACE = 30.0


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
    if not port_in_use(int(port), host or "127.0.0.1"):
        return False
    with _quiet_aiokafka():
        return asyncio.run(_broker_count(bootstrap)) > 0


def wait_for_kafka(bootstrap: str, timeout: float = 120.0, pid: int | None = None) -> None:
    """Block until the broker answers; fail early if the process ``pid`` dies."""
    deadline = time.monotonic() + timeout
    while not kafka_answers(bootstrap):
        if pid is not None and not alive(pid):
            raise StackError(f"Kafka exited while starting; {log_hint('kafka')}")
        if time.monotonic() > deadline:
            raise StackError(f"Kafka did not answer on {bootstrap} in {timeout:.0f}s")
        time.sleep(0.5)


def _kafka_libs() -> Path:
    libs = subdir("kafka") / "libs"
    if libs.is_dir() and any(libs.glob("*.jar")):
        return libs
    if shutil.which("mvn") is None:
        raise StackError("mvn (Apache Maven) is needed to fetch the Kafka broker; install it")
    console.print("Fetching the Kafka broker jars with Maven (once) ...")
    # Into a side folder first: an interrupted fetch must not pass for a complete one.
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    run(
        [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(KAFKA_DEPLOY / "pom.xml"),
            f"-Dmaven.repo.local={subdir('m2')}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
        ],
        "fetching the Kafka jars with mvn",
    )
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    return libs


def _cluster_id() -> str:
    path = subdir("kafka") / "cluster-id"
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
    target = subdir("kafka") / "server.properties"
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
        if port_in_use(busy):
            raise StackError(
                f"port {busy} is taken by a program that is not this project's Kafka broker "
                f"(the broker needs {port} and {port + 1}). Stop that program, or choose "
                "another port with APPOINTMENTS_KAFKA_BOOTSTRAP=127.0.0.1:<port>."
            )
    java = shutil.which("java")
    if java is None:
        raise StackError("java (17 or newer) is needed to run the Kafka broker; install it")
    libs = _kafka_libs()
    data = subdir("kafka", "data")
    properties = _render_server_properties(port, data)
    classpath = f"{libs}/*"
    if not (data / "meta.properties").exists():
        run(
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
        # C1 only: on two cores, C2 compiling the broker for its first minutes took more CPU
        # than the broker's work (10.8 s of 27 s in a booking benchmark), from the services.
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        f"-Dkafka.logs.dir={subdir('logs')}",
        f"-Dlog4j2.configurationFile={KAFKA_DEPLOY / 'log4j2.properties'}",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(properties),
    ]
    console.print(f"Starting Kafka on {bootstrap} ...")
    pid = spawn("kafka", command, dict(os.environ), subdir("kafka"))
    wait_for_kafka(bootstrap, timeout, pid)
    return bootstrap


def stop_kafka() -> None:
    """Stop the broker this project started (SIGTERM, then SIGKILL after 30 s)."""
    pid = kafka_pid()
    if pid is not None:
        console.print("Stopping Kafka ...")
        terminate({"kafka": pid}, KAFKA_STOP_GRACE)
    pid_file("kafka").unlink(missing_ok=True)
