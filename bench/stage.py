"""One run's servers and secrets, and each phase's own topics and databases, removed afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench import cpu
from bench.load import Meter
from schemas.topics import TOPICS, TopicSpec, topic_configs
from services.common.auth import Role
from services.common.config import Settings
from services.common.db import drop_database, drop_roles
from services.common.shredding import KEYSTORE_DATABASE
from services.common.token_keys import local_issuer

TOPIC_READY_SECONDS = 30.0
# Longer than any run; the services check it against the state folder's key, as the stack's.
BENCH_TOKEN_TTL = timedelta(hours=12)
# Every database a phase's services (or baseline B) may create under the stage's suffix.
DATABASES = ("bench_store", "booking", "projections", KEYSTORE_DATABASE)


@dataclass(frozen=True)
class Stage:
    """Where one phase runs: a topic prefix and a database suffix that nobody else uses."""

    settings: Settings
    secret: str

    def env(self, service: str, port: int) -> dict[str, str]:
        """The environment that points a service subprocess at this stage, on ``port``."""
        cfg = self.settings
        return {
            "APPOINTMENTS_KAFKA_BOOTSTRAP": cfg.kafka_bootstrap,
            "APPOINTMENTS_PG_URL": cfg.pg_url,
            "APPOINTMENTS_TOPIC_PREFIX": cfg.topic_prefix,
            "APPOINTMENTS_DB_SUFFIX": cfg.db_suffix,
            "APPOINTMENTS_TOKEN_SECRET": self.secret,
            f"APPOINTMENTS_{service.upper()}_PORT": str(port),
            # The forms use Ofcom's drama numbers, which only a non-production service accepts.
            "APPOINTMENTS_ENVIRONMENT": "development",
        }


@dataclass(frozen=True)
class Run:
    """What every phase of one run shares: the servers, the secret, the clock, the CPU meters."""

    run_id: str
    kafka_bootstrap: str
    pg_url: str
    secret: str
    now: datetime
    servers: cpu.Servers

    def stage(self, name: str = "") -> Stage:
        """The stage called ``name`` ("" for the run's main one)."""
        tag = f"-{name}" if name else ""
        cfg = Settings(
            kafka_bootstrap=self.kafka_bootstrap,
            pg_url=self.pg_url,
            db_suffix=f"_bench{self.run_id}{tag.replace('-', '_')}",
            topic_prefix=f"bench-{self.run_id}{tag}.",
        )
        return Stage(cfg, self.secret)

    def meter(self, service_pid: int | None = None) -> Meter:
        """A meter of this process, the servers and (given its pid) a service's process tree."""
        return Meter(self.servers, service_pid)

    def token(self, role: Role) -> str:
        """A bearer token for ``role`` that this run's services accept."""
        return local_issuer().token(role, "bench", BENCH_TOKEN_TTL)


@contextlib.asynccontextmanager
async def provisioned(stage: Stage, extra: Sequence[TopicSpec] = ()) -> AsyncIterator[Stage]:
    """The contract's topics (and ``extra``) under the stage's prefix; topics and databases gone after."""
    specs = [*TOPICS, *extra]
    cfg = stage.settings
    try:
        await _topics(cfg.kafka_bootstrap, specs, cfg.topic_prefix, create=True)
        yield stage
    finally:
        with contextlib.suppress(Exception):
            await _topics(cfg.kafka_bootstrap, specs, cfg.topic_prefix, create=False)
        for name in DATABASES:
            with contextlib.suppress(Exception):
                await drop_database(cfg.database_url(name))
        with contextlib.suppress(Exception):
            await _drop_login_roles(cfg)


async def _drop_login_roles(cfg: Settings) -> None:
    # The services' login roles of this stage (each named with its database suffix).
    conn = await asyncpg.connect(f"{cfg.pg_url.rstrip('/')}/postgres")
    try:
        await drop_roles(conn, cfg.db_suffix)
    finally:
        await conn.close()


async def _topics(bootstrap: str, specs: Sequence[TopicSpec], prefix: str, create: bool) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {f"{prefix}{t.name}": t.partitions for t in specs}
        names = list(partitions)
        if not create:
            await admin.delete_topics(names)
            return
        # As the stack makes them: one replica a broker, up to three (min.insync.replicas is
        # the brokers' own setting: two of three on a cluster).
        replicas = max(1, min(3, len((await admin.describe_cluster()).get("brokers", []))))
        await admin.create_topics(
            [
                NewTopic(f"{prefix}{t.name}", t.partitions, replicas, topic_configs=topic_configs(t))
                for t in specs
            ]
        )
        # Producing before every partition has its leader only earns NotLeaderForPartition retries.
        deadline = time.monotonic() + TOPIC_READY_SECONDS
        while not _all_led(await admin.describe_topics(names), partitions):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bench topics have no leaders after {TOPIC_READY_SECONDS:.0f} s")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def _all_led(described: Sequence[dict[str, Any]], partitions: dict[str, int]) -> bool:
    led = {
        t["topic"]: sum(1 for p in t["partitions"] if p["error_code"] == 0 and p["leader"] >= 0)
        for t in described
        if t["error_code"] == 0
    }
    return all(led.get(name) == count for name, count in partitions.items())


@contextlib.contextmanager
def fresh_topic_retries_quiet() -> Iterator[None]:
    """Silence the producer's retry warnings while it writes to topics made seconds ago."""
    # Such a topic may answer NotLeaderForPartition for a moment even once its metadata names
    # leaders; the producer retries, and nothing is lost.
    logger = logging.getLogger("aiokafka.producer.sender")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
