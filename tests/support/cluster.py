"""A three-node KRaft cluster of one's own, started as `appointments up --brokers 3` starts it.

In a state folder of its own (so the shared broker and its topics are never touched), from
the jars the shared broker already runs from (else the stack fetches them), on free ports.
Used by the cluster test, the bench's cluster phase and `make chaos`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from cli.stack.process import port_in_use
from services.common.config import settings

NODES = 3
STACK_SECONDS = 300


# Below Linux's ephemeral range (32768 and up): a port found free there can be taken a moment
# later by any outgoing connection, and a node then fails to bind it.
FIRST_PORT = 19092


def free_ports(count: int, start: int = FIRST_PORT) -> int:
    """The first port from which ``count`` ports in a row are free."""
    base = start
    while any(port_in_use(p) for p in range(base, base + count)):
        base += count
    return base


def stack_env(state: Path, *, nodes: int = NODES, first_port: int = FIRST_PORT) -> dict[str, str]:
    """The environment that points ``cli.stack`` at a state folder of its own and a cluster of ``nodes``."""
    state.mkdir(parents=True, exist_ok=True)
    jars = settings().state_dir.resolve() / "kafka" / "libs"
    if jars.is_dir() and not (state / "kafka").exists():
        (state / "kafka").mkdir()
        (state / "kafka" / "libs").symlink_to(jars)
    return {
        **os.environ,
        "APPOINTMENTS_STATE_DIR": str(state),
        "APPOINTMENTS_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_ports(2 * nodes, first_port)}",
        "APPOINTMENTS_KAFKA_BROKERS": str(nodes),
    }


def stack(env: Mapping[str, str], code: str) -> list[str]:
    """Run ``cli.stack`` code (``stack`` is imported) in a process of its own; its output lines."""
    done = subprocess.run(
        [sys.executable, "-c", f"from cli import stack\n{code}"],
        env=dict(env), capture_output=True, text=True, timeout=STACK_SECONDS, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"stack call failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()


def stop_kafka_nodes(state: Path, env: Mapping[str, str]) -> None:
    """Stop the folder's nodes; the last has no quorum to shut down cleanly with, so SIGKILL first."""
    for pid_file in (state / "run").glob("kafka-*.pid"):
        with contextlib.suppress(ProcessLookupError, ValueError, OSError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    with contextlib.suppress(RuntimeError):
        stack(env, "stack.stop_kafka()")


@contextlib.contextmanager
def kafka_cluster(nodes: int = NODES, first_port: int = FIRST_PORT) -> Iterator[tuple[str, Path]]:
    """A cluster of ``nodes`` with the contract's topics; yields its bootstrap and state folder."""
    state = Path(tempfile.mkdtemp(prefix="sa-cluster-", dir="/tmp"))
    env = stack_env(state, nodes=nodes, first_port=first_port)
    try:
        lines = stack(env, "b = stack.ensure_kafka()\nstack.ensure_topics(b)\nprint(b)")
        yield lines[-1], state
    finally:
        stop_kafka_nodes(state, env)
        shutil.rmtree(state, ignore_errors=True)


async def leader_of(bootstrap: str, topic: str, partition: int) -> int:
    """The node leading one partition of ``topic``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return int(next(p["leader"] for p in described["partitions"] if p["partition"] == partition))
    finally:
        await admin.close()
