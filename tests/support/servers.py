"""Real Kafka and PostgreSQL for integration tests: named, in Docker, or the local stack.

One function, three ways, tried in this order:

a. APPOINTMENTS_TEST_KAFKA_BOOTSTRAP and APPOINTMENTS_TEST_PG_URL name servers: use them.
b. A Docker engine answers: start apache/kafka and postgres containers (testcontainers).
   APPOINTMENTS_TEST_DOCKER=0 skips this way.
c. Otherwise reuse the local stack of the state folder (`make run`), starting whatever
   of it is not running with cli.stack; only what was started here is stopped after.

Every way ends with the contract topics created.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from cli import stack

KAFKA_IMAGE = "apache/kafka:4.1.1"
POSTGRES_IMAGE = "postgres:15"


@dataclass(frozen=True)
class Servers:
    """Where the test servers are; pg_url has no database name (as APPOINTMENTS_PG_URL)."""

    kafka_bootstrap: str
    pg_url: str


def _nothing() -> None:
    return None


def _named() -> Servers | None:
    kafka = os.environ.get("APPOINTMENTS_TEST_KAFKA_BOOTSTRAP")
    pg = os.environ.get("APPOINTMENTS_TEST_PG_URL")
    if kafka and pg:
        return Servers(kafka_bootstrap=kafka, pg_url=pg.rstrip("/"))
    if kafka or pg:
        raise RuntimeError(
            "set both APPOINTMENTS_TEST_KAFKA_BOOTSTRAP and APPOINTMENTS_TEST_PG_URL, or neither"
        )
    return None


def docker_answers() -> bool:
    """Whether a Docker engine answers within a few seconds."""
    if os.environ.get("APPOINTMENTS_TEST_DOCKER") == "0":
        return False
    if shutil.which("docker"):
        try:
            probe = subprocess.run(
                ["docker", "info", "--format", "{{.ServerVersion}}"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=10,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False
        return probe.returncode == 0
    try:
        from testcontainers.core.docker_client import DockerClient

        DockerClient(timeout=5).client.ping()
    except Exception:
        return False
    return True


def _start_kafka_container() -> Any:
    from testcontainers.core.container import DockerContainer

    # testcontainers' KafkaContainer drives Confluent images only; the Apache image is
    # configured by KAFKA_* variables. The advertised address needs the mapped port, known
    # only once the container runs, so the broker waits for a start script written then.
    script = "/tc-start.sh"
    container = (
        DockerContainer(KAFKA_IMAGE)
        .with_exposed_ports(9092)
        .with_env("CLUSTER_ID", "4L6g3nShT-eMCtK--X86sw")
        .with_env("KAFKA_NODE_ID", "1")
        .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
        .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
        .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
        .with_env(
            "KAFKA_LISTENERS", "PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093"
        )
        .with_env(
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT",
        )
        .with_env("KAFKA_INTER_BROKER_LISTENER_NAME", "BROKER")
        .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        .with_command(["sh", "-c", f"while [ ! -f {script} ]; do sleep 0.1; done; sh {script}"])
    )
    container.start()
    try:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(9092))
        body = (
            f"export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://{host}:{port},BROKER://localhost:19092\n"
            "exec /etc/kafka/docker/run\n"
        ).encode()
        archive = BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            entry = tarfile.TarInfo(name=script.lstrip("/"))
            entry.size, entry.mode, entry.mtime = len(body), 0o755, int(time.time())
            tar.addfile(entry, BytesIO(body))
        container.get_wrapped_container().put_archive("/", archive.getvalue())
        stack.wait_for_kafka(f"{host}:{port}", timeout=120)
    except BaseException:
        container.stop()
        raise
    return container


def _in_docker() -> tuple[Servers, Callable[[], None]]:
    from testcontainers.community.postgres import PostgresContainer

    postgres = PostgresContainer(
        POSTGRES_IMAGE, username="appointments", password="appointments", dbname="postgres"
    ).with_command("postgres -c max_connections=200 -c fsync=off")
    postgres.start()
    try:
        kafka = _start_kafka_container()
    except BaseException:
        postgres.stop()
        raise
    host = postgres.get_container_host_ip()
    port = postgres.get_exposed_port(5432)
    servers = Servers(
        kafka_bootstrap=f"{kafka.get_container_host_ip()}:{kafka.get_exposed_port(9092)}",
        pg_url=f"postgresql://appointments:appointments@{host}:{port}",
    )

    def stop() -> None:
        kafka.stop()
        postgres.stop()

    return servers, stop


def _started_marker(server: str) -> Path:
    return stack.state_dir() / "run" / f"{server}.started-by-tests"


def _local() -> tuple[Servers, Callable[[], None]]:
    # Several test sessions (and `appointments up`) may share the state folder: each holds
    # a lease, and the servers a test session started are stopped when the last lease goes.
    lease = f"tests-{os.getpid()}"
    with stack.locked():
        stack.take_lease(lease)
        try:
            kafka_was_running = stack.kafka_pid() is not None
            pg_was_running = stack.postgres_running()
            pg_url = stack.ensure_postgres()
            if not pg_was_running and stack.postgres_running():
                _started_marker("postgres").touch()
            kafka_bootstrap = stack.ensure_kafka()
            if not kafka_was_running:
                _started_marker("kafka").touch()
        except BaseException:
            _release(lease)
            raise

    def stop() -> None:
        with stack.locked():
            _release(lease)

    return Servers(kafka_bootstrap=kafka_bootstrap, pg_url=pg_url), stop


def _release(lease: str) -> None:
    stack.release_lease(lease)
    if stack.other_leases(lease):
        return
    for server, stop in (("kafka", stack.stop_kafka), ("postgres", stack.stop_postgres)):
        marker = _started_marker(server)
        if marker.exists():
            stop()
            marker.unlink()


def find_or_start_servers() -> tuple[Servers, Callable[[], None]]:
    """Find or start Kafka and PostgreSQL; returns them and a callable stopping what it started."""
    named = _named()
    if named is not None:
        servers, stop = named, _nothing
    elif docker_answers():
        servers, stop = _in_docker()
    else:
        servers, stop = _local()
    try:
        stack.wait_for_kafka(servers.kafka_bootstrap, timeout=120)
        stack.ensure_topics(servers.kafka_bootstrap)
    except BaseException:
        stop()
        raise
    return servers, stop
