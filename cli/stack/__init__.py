"""The local stack without Docker: a KRaft Kafka broker, a PostgreSQL cluster and the services.

Everything lives in the state folder (``settings().state_dir``, default ``<repo>/.state``):

    kafka/libs  kafka/data  kafka/server.properties  kafka/cluster-id   m2/
    pg/data  pg/run  pg/port    logs/<name>.log    run/<name>.pid (.started)    token-secret

Every ``ensure_*`` is idempotent: what already runs is reused, never restarted.

Modules: state (folder, logs, error), process (spawn, signal, ports, commands),
leases (lock, leases), kafka, topics, pg_setup and postgres, services, report, and watchdog
(the detached process `up` leaves running, which starts again any part that dies).
"""

from __future__ import annotations

from .kafka import (
    KAFKA_DEPLOY,
    KAFKA_STOP_GRACE,
    ensure_kafka,
    kafka_bootstrap,
    kafka_brokers_answering,
    kafka_nodes,
    kafka_pid,
    kafka_pids,
    kafka_port,
    stop_kafka,
    wait_for_kafka,
)
from .leases import STACK_LEASE, locked, other_leases, release_lease, take_lease
from .pg_setup import PG_OS_USER
from .postgres import (
    PG_USER,
    ensure_postgres,
    pg_port,
    pg_url,
    postgres_pid,
    postgres_running,
    stop_postgres,
)
from .process import running_pid
from .report import Health, print_status, print_summary, stack_health
from .services import (
    SERVICE_STOP_GRACE,
    SERVICES,
    service_pid,
    stack_environment,
    start_services,
    stop_all,
    stop_services,
    token_secret,
    wait_healthy,
)
from .state import StackError, console, log_file, state_dir, tail
from .topics import create_topics, ensure_topics
from .watchdog import ensure_watchdog, stop_watchdog, watchdog_pid, watchdog_status

__all__ = [
    "KAFKA_DEPLOY",
    "KAFKA_STOP_GRACE",
    "PG_OS_USER",
    "PG_USER",
    "SERVICES",
    "SERVICE_STOP_GRACE",
    "STACK_LEASE",
    "Health",
    "StackError",
    "console",
    "create_topics",
    "ensure_kafka",
    "ensure_postgres",
    "ensure_topics",
    "ensure_watchdog",
    "kafka_bootstrap",
    "kafka_brokers_answering",
    "kafka_nodes",
    "kafka_pid",
    "kafka_pids",
    "kafka_port",
    "locked",
    "log_file",
    "other_leases",
    "pg_port",
    "pg_url",
    "postgres_pid",
    "postgres_running",
    "print_status",
    "print_summary",
    "release_lease",
    "running_pid",
    "service_pid",
    "stack_environment",
    "stack_health",
    "start_services",
    "state_dir",
    "stop_all",
    "stop_kafka",
    "stop_postgres",
    "stop_services",
    "stop_watchdog",
    "tail",
    "take_lease",
    "token_secret",
    "wait_for_kafka",
    "wait_healthy",
    "watchdog_pid",
    "watchdog_status",
]
