"""The local KRaft Kafka, one broker or a cluster of three: jars from Maven Central, storage, start, stop."""

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
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from services.common.config import PROJECT_ROOT, settings

from .process import alive, forget_pid, port_in_use, port_released, run, running_pid, spawn, terminate
from .state import StackError, console, log_hint, subdir

KAFKA_DEPLOY = PROJECT_ROOT / "deploy" / "kafka"
KAFKA_STOP_GRACE = 30.0
BROKER_SESSION_MS = 4000
BROKER_HEARTBEAT_MS = 1000


def kafka_port() -> int:
    """The first node's port: that of APPOINTMENTS_KAFKA_BOOTSTRAP (first host), default 9092."""
    first = settings().kafka_bootstrap.split(",")[0].strip()
    _, _, port = first.rpartition(":")
    return int(port) if port.isdigit() else 9092


@dataclass(frozen=True)
class Node:
    """One local Kafka node (broker and controller): its id, its two ports, its folders."""

    node_id: int
    port: int
    single: bool

    @property
    def controller_port(self) -> int:
        """The port of its KRaft controller listener."""
        return self.port + 1

    @property
    def name(self) -> str:
        """Its pid file's and log's name: ``kafka`` for the single broker, ``kafka-N`` in a cluster."""
        return "kafka" if self.single else f"kafka-{self.node_id}"

    def folder(self, *parts: str) -> Path:
        """Its folder (or a folder in it) in the state folder."""
        return subdir("kafka", *parts) if self.single else subdir("kafka", f"node-{self.node_id}", *parts)


def kafka_nodes() -> list[Node]:
    """The nodes the local stack runs: one, or three on the bootstrap port and the four after it."""
    count, base = settings().kafka_brokers, kafka_port()
    return [Node(n + 1, base + 2 * n, count == 1) for n in range(count)]


def kafka_bootstrap() -> str:
    """Every local node's address, so a client still connects while one of them is down."""
    return ",".join(f"127.0.0.1:{node.port}" for node in kafka_nodes())


def kafka_pids() -> dict[str, int]:
    """The live nodes this project started, by name."""
    found = {node.name: running_pid(node.name, "kafka.Kafka") for node in kafka_nodes()}
    return {name: pid for name, pid in found.items() if pid is not None}


def kafka_pid() -> int | None:
    """The pid of the (first live) node this project started, if one runs."""
    return next(iter(kafka_pids().values()), None)


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


def kafka_brokers_answering(bootstrap: str) -> int:
    """How many brokers the cluster at ``bootstrap`` names in a metadata answer (0: none answers)."""
    listening = []
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        if port_in_use(int(port), host or "127.0.0.1"):
            listening.append(address.strip())
    if not listening:
        return 0
    with _quiet_aiokafka():
        return asyncio.run(_broker_count(",".join(listening)))


def wait_for_kafka(bootstrap: str, timeout: float = 120.0, pid: int | None = None, brokers: int = 1) -> None:
    """Block until ``brokers`` brokers answer; fail early if the process ``pid`` dies."""
    deadline = time.monotonic() + timeout
    while kafka_brokers_answering(bootstrap) < brokers:
        if pid is not None and not alive(pid):
            raise StackError(f"Kafka exited while starting; {log_hint('kafka')}")
        if time.monotonic() > deadline:
            raise StackError(
                f"Kafka did not answer on {bootstrap} with {brokers} broker(s) in {timeout:.0f}s"
            )
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


def _render_server_properties(node: Node, nodes: list[Node]) -> Path:
    template = (KAFKA_DEPLOY / "server.properties").read_text()
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)
    replicas = min(3, len(nodes))
    rendered = (
        template.replace("__NODE_ID__", str(node.node_id))
        .replace("__VOTERS__", voters)
        .replace("__CONTROLLER_PORT__", str(node.controller_port))
        .replace("__PORT__", str(node.port))
        .replace("__LOG_DIRS__", str(node.folder("data")))
        .replace("__REPLICAS__", str(replicas))
        .replace("__MIN_ISR__", str(2 if replicas >= 3 else 1))
    )
    target = node.folder() / "server.properties"
    target.write_text(rendered)
    return target


def _start_node(java: str, classpath: str, node: Node, nodes: list[Node]) -> int:
    """Format the node's storage (once) and start it; returns its pid."""
    for busy in (node.port, node.controller_port):
        if not port_released(busy):
            raise StackError(
                f"port {busy} is taken by a program that is not this project's Kafka "
                f"(node {node.node_id} needs {node.port} and {node.controller_port}). Stop that "
                "program, or choose another port with APPOINTMENTS_KAFKA_BOOTSTRAP=127.0.0.1:<port>."
            )
    properties = _render_server_properties(node, nodes)
    if not (node.folder("data") / "meta.properties").exists():
        run(
            [java, "-cp", classpath, "kafka.tools.StorageTool", "format", "--ignore-formatted",
             "-t", _cluster_id(), "-c", str(properties)],
            "formatting the Kafka storage",
        )  # fmt: skip
    # One node may take 1 GiB; three share the machine with the rest of the stack.
    heap = ["-Xms256m", "-Xmx1g"] if node.single else ["-Xms128m", "-Xmx512m"]
    logs = subdir("logs") if node.single else subdir("logs", node.name)
    command = [
        java,
        *heap,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        # C1 only: on two cores, C2 compiling the broker for its first minutes took more CPU
        # than the broker's work (10.8 s of 27 s in a booking benchmark), from the services.
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        f"-Dkafka.logs.dir={logs}",
        f"-Dlog4j2.configurationFile={KAFKA_DEPLOY / 'log4j2.properties'}",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(properties),
        # A node killed and started again cannot register its broker until the controller's
        # record of the old one expires (DUPLICATE_BROKER_REGISTRATION): 9 s by default, most of
        # its time to answer again. 4 s, beats each second, keeps it under the watchdog's 10 s.
        *("--override", f"broker.session.timeout.ms={BROKER_SESSION_MS}"),
        *("--override", f"broker.heartbeat.interval.ms={BROKER_HEARTBEAT_MS}"),
    ]
    return spawn(node.name, command, dict(os.environ), node.folder())


def ensure_kafka(timeout: float = 120.0) -> str:
    """Start the local KRaft node(s) not already running; returns the bootstrap addresses.

    Every node is started before any is waited for: a cluster answers only once a majority
    of its controllers has formed a quorum.
    """
    nodes = kafka_nodes()
    bootstrap = kafka_bootstrap()
    running = {**kafka_pids(), **start_missing_nodes()}
    first = next(iter(running.values()), None) if len(nodes) == 1 else None
    wait_for_kafka(bootstrap, timeout, first, brokers=len(nodes))
    return bootstrap


def start_missing_nodes(only: str | None = None) -> dict[str, int]:
    """Start the local node(s) not running (``only``: that one), without waiting; returns those started."""
    nodes = kafka_nodes()
    running = kafka_pids()
    missing = [node for node in nodes if node.name not in running and only in (None, node.name)]
    if not missing:
        return {}
    java = shutil.which("java")
    if java is None:
        raise StackError("java (17 or newer) is needed to run the Kafka broker; install it")
    classpath = f"{_kafka_libs()}/*"
    bootstrap = kafka_bootstrap()
    where = "on " + bootstrap if len(nodes) == 1 else f"as a cluster of {len(nodes)} on {bootstrap}"
    console.print(f"Starting Kafka {where} ...")
    return {node.name: _start_node(java, classpath, node, nodes) for node in missing}


def stop_kafka() -> None:
    """Stop the node(s) this project started (SIGTERM, then SIGKILL after 30 s)."""
    pids = kafka_pids()
    if pids:
        console.print("Stopping Kafka ...")
        terminate(pids, KAFKA_STOP_GRACE)
    for node in kafka_nodes():
        forget_pid(node.name)
