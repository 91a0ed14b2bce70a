"""The chaos run's own servers: a three-node KRaft cluster and a PostgreSQL cluster, in its folder.

Nothing of the shared stack is touched: the run kills brokers and restarts PostgreSQL, so it
starts both of its own (the same Maven-assembled jars and Debian binaries `appointments up`
uses, through the same ``cli.stack`` code), under ``<state>/chaos/<run>/stack``.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from services.common.config import Settings
from tests.support.cluster import stack, stack_env, stop_kafka_nodes


@dataclass(frozen=True)
class Servers:
    """The run's Kafka cluster and PostgreSQL, and the environment ``cli.stack`` reaches them with."""

    folder: Path
    env: dict[str, str]
    kafka_bootstrap: str
    pg_url: str

    def stack(self, code: str) -> list[str]:
        """Run ``cli.stack`` code against this run's servers (in a process of its own: its state folder)."""
        return stack(self.env, code)

    def settings(self, run_id: str) -> Settings:
        """The services' settings on these servers, with the run's own database names."""
        return Settings(
            kafka_bootstrap=self.kafka_bootstrap,
            pg_url=self.pg_url,
            db_suffix=f"_chaos{run_id}",
            topic_prefix="",
        )

    def kafka_node_pid(self, node_id: int) -> int:
        """The pid of one Kafka node."""
        return int((self.folder / "run" / f"kafka-{node_id}.pid").read_text())

    def start_kafka(self) -> None:
        """Start whichever nodes are not running, and wait for all three to answer."""
        self.stack("stack.ensure_kafka()")

    def crash_postgres(self) -> None:
        """Stop PostgreSQL as a crash does (immediate: no checkpoint, recovery at the next start)."""
        self.stack(
            "from cli.stack.pg_setup import pg_bin_dir, pg_command\n"
            "import subprocess\n"
            "data = stack.state_dir() / 'pg' / 'data'\n"
            "subprocess.run(pg_command(pg_bin_dir(), 'pg_ctl', '-D', str(data), '-m', 'immediate', 'stop'),"
            " check=True, capture_output=True)"
        )

    def start_postgres(self) -> None:
        """Start PostgreSQL again on its port (crash recovery runs first)."""
        self.stack("stack.ensure_postgres()")


def start_servers(folder: Path) -> Servers:
    """Three Kafka nodes with the contract's topics (replication 3, min.insync 2), and PostgreSQL."""
    state = folder / "stack"
    env = stack_env(state, first_port=21092)
    probe = Servers(state, env, "", "")
    try:
        lines = probe.stack(
            "url = stack.ensure_postgres()\nbootstrap = stack.ensure_kafka()\n"
            "stack.ensure_topics(bootstrap)\nprint(url)\nprint(bootstrap)"
        )
    except BaseException:
        stop_servers(probe, remove=True)  # whatever of it did start
        raise
    return Servers(state, env, kafka_bootstrap=lines[-1], pg_url=lines[-2])


def stop_servers(servers: Servers, *, remove: bool) -> None:
    """Stop the run's servers; the folder (logs, evidence) stays unless ``remove``."""
    stop_kafka_nodes(servers.folder, servers.env)
    with contextlib.suppress(RuntimeError):
        servers.stack("stack.stop_postgres()")
    if remove:
        shutil.rmtree(servers.folder / "kafka", ignore_errors=True)
        shutil.rmtree(servers.folder / "pg", ignore_errors=True)
