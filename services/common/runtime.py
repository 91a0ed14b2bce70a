"""One service process: its database pool, its Kafka broker, its outbox relay, wired once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from schemas.envelope import source_of
from services.common import checkpoints, kafka, metrics
from services.common.config import Settings
from services.common.consumer import IdempotentConsumer, Subscription
from services.common.db import COMMON_MIGRATIONS, open_pool
from services.common.deadletters import DeadLetterSeal, sealing
from services.common.logging import get_logger
from services.common.relay import OutboxRelay

log = get_logger(__name__)
START_RETRY_MAX_SECONDS = 30.0


async def start_relay(
    service: str, settings: Settings, pool: asyncpg.Pool, source: str
) -> tuple[AIOKafkaProducer, OutboxRelay]:
    """The outbox relay of a service's database, with its own idempotent producer (started)."""
    producer = kafka.relay_producer(settings.kafka_bootstrap, service)
    await producer.start()
    prefix = settings.topic_prefix
    relay = OutboxRelay(
        pool,
        kafka.sender(producer, prefix),
        source,
        settings.relay_poll_seconds,
        kafka.recent_ids(settings.kafka_bootstrap, prefix),
    )
    return producer, relay


async def run_relay(relay: OutboxRelay) -> None:
    """Run the relay until it is stopped, starting it again after a failure."""
    while True:
        try:
            await relay.run()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            # Kafka or PostgreSQL blipped; nothing is lost (rows stay unpublished), so retry.
            log.exception("outbox relay failed; retrying")
            await asyncio.sleep(1.0)


async def relay_only(service: str, settings: Settings, stopping: asyncio.Event) -> None:
    """A service's outbox relay on its own (a supervisor's): its own small pool and producer.

    Waits for the database the workers create and migrate, and for Kafka; runs until
    ``stopping`` is set.
    """
    delay = 0.5
    while not stopping.is_set():
        pool: asyncpg.Pool | None = None
        producer: AIOKafkaProducer | None = None
        try:
            pool = await open_pool(settings.database_url(service), [], max_size=2)
            producer, relay = await start_relay(service, settings, pool, source_of(service))
            task = asyncio.create_task(run_relay(relay), name=f"{service}-relay")
            await stopping.wait()
            relay.stop()
            await asyncio.wait_for(task, 10)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("the relay cannot start yet; retrying", error=type(exc).__name__, delay=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            delay = min(delay * 2, START_RETRY_MAX_SECONDS)
        finally:
            if producer is not None:
                await producer.stop()
            if pool is not None:
                await pool.close()


def _not_ready_yet(exc: BaseException) -> bool:
    """A server not (yet) answering: the usual reason a start fails, and one that passes."""
    if isinstance(exc, OSError | asyncpg.PostgresError | ConnectionError):
        return True
    # Kafka clients have their own hierarchy of errors.
    return type(exc).__module__.startswith(("aiokafka", "kafka", "faststream"))


@dataclass
class Runtime:
    """What a service's handlers need at run time; built by ``start`` and torn down by ``stop``."""

    service: str
    settings: Settings
    migrations: Sequence[Path]
    pool: asyncpg.Pool | None = None
    broker: KafkaBroker | None = None
    relay: OutboxRelay | None = None
    producer: AIOKafkaProducer | None = None
    _relay_task: asyncio.Task[None] | None = None
    # Background upkeep (consumer positions on /metrics, periodic checkpoints), cancelled by stop.
    _upkeep: list[asyncio.Task[None]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # What kind of failure stopped the last start, shown by /health until a start succeeds.
    start_error: str | None = None

    @property
    def source(self) -> str:
        """The CloudEvents source of this service's events."""
        return source_of(self.service)

    @property
    def db(self) -> asyncpg.Pool:
        """The service's database pool (after start)."""
        assert self.pool is not None, "runtime not started"
        return self.pool

    @property
    def kafka(self) -> KafkaBroker:
        """The service's Kafka broker (after start)."""
        assert self.broker is not None, "runtime not started"
        return self.broker

    async def start(
        self,
        subscriptions: Sequence[Subscription] = (),
        extra_setup: Callable[[KafkaBroker], None] | None = None,
    ) -> None:
        """Open the database (migrating it), the broker, every subscription, and the relay."""
        self.pool = await open_pool(
            self.settings.database_url(self.service), [COMMON_MIGRATIONS, *self.migrations]
        )
        self.broker = kafka.make_broker(self.settings.kafka_bootstrap, client_id=self.service)
        prefix = self.settings.topic_prefix
        # Dead letters leave sealed: a copy of a control-room request holds a caller in clear.
        publish = sealing(
            kafka.publisher(self.broker, prefix), DeadLetterSeal(self.settings.deadletter_secret())
        )
        for s in subscriptions:
            consumer = IdempotentConsumer(
                s.consumer, self.pool, s.apply, publish, s.apply_batch, s.wants, s.contract
            )
            # A consumer that can apply a batch gets Kafka's fetches whole, one transaction each.
            if s.apply_batch is None:
                kafka.subscribe(self.broker, s.topic, consumer, prefix, self.settings.db_suffix)
            else:
                kafka.subscribe_batch(
                    self.broker, s.topic, consumer, prefix, self.settings.db_suffix, patience_ms=s.patience_ms
                )
        if extra_setup is not None:
            extra_setup(self.broker)
        await self.broker.start()
        if self.settings.relay_in_workers:
            self.producer, self.relay = await start_relay(self.service, self.settings, self.pool, self.source)
            self._relay_task = asyncio.create_task(run_relay(self.relay), name=f"{self.service}-relay")
        self._start_upkeep(subscriptions)
        log.info("service started", service=self.service)

    def _start_upkeep(self, subscriptions: Sequence[Subscription]) -> None:
        """Where the consumers stand, read every few seconds for /metrics (never per record), and
        the database's chain heads signed every period (services.common.checkpoints)."""
        signing = checkpoints.periodic(self.service, self.settings)
        if signing is not None:
            task = asyncio.create_task(
                checkpoints.keep_signing(self.db, signing), name=f"{self.service}-checkpoints"
            )
            self._upkeep.append(task)
        every = metrics.MetricsSettings().metrics_positions_every_seconds
        if every > 0 and subscriptions:
            prefix, suffix = self.settings.topic_prefix, self.settings.db_suffix
            watched = [
                metrics.Watched(s.consumer, f"{s.consumer}{suffix}", f"{prefix}{s.topic}")
                for s in subscriptions
            ]
            watch = metrics.PositionWatch(self.db, self.settings.kafka_bootstrap, watched)
            self._upkeep.append(asyncio.create_task(watch.run(every), name=f"{self.service}-positions"))

    async def stop(self) -> None:
        """Stop the upkeep, the relay, the broker and the pool, in that order."""
        upkeep, self._upkeep = self._upkeep, []
        for task in upkeep:
            task.cancel()
        for task in upkeep:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.relay is not None:
            self.relay.stop()
        if self._relay_task is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._relay_task, 10)
        if self.producer is not None:
            await self.producer.stop()
        if self.broker is not None:
            await self.broker.stop()
        if self.pool is not None:
            await self.pool.close()
        self.ready.clear()

    async def probe_database(self) -> None:
        """Health probe: the database answers."""
        if self.pool is None:
            raise ConnectionError(
                f"not started: {self.start_error}" if self.start_error else "not connected yet"
            )
        async with self.db.acquire() as conn:
            await conn.fetchval("select 1")

    async def probe_kafka(self) -> None:
        """Health probe: the broker answers."""
        if self.broker is None or not self.ready.is_set():
            raise ConnectionError(
                f"not started: {self.start_error}" if self.start_error else "not connected yet"
            )
        if not await self.kafka.ping(timeout=2.0):
            raise ConnectionError("Kafka does not answer")

    @contextlib.asynccontextmanager
    async def running(
        self,
        subscriptions: Sequence[Subscription] = (),
        extra_setup: Callable[[KafkaBroker], None] | None = None,
    ) -> AsyncIterator[Runtime]:
        """Start on entry (retrying while a server is still coming up), stop on exit.

        HTTP is served meanwhile, so /health can say which dependency is not up yet.
        """
        starter = asyncio.create_task(self._start_with_retries(subscriptions, extra_setup))
        try:
            yield self
        finally:
            starter.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starter
            await self.stop()

    async def _start_with_retries(
        self,
        subscriptions: Sequence[Subscription],
        extra_setup: Callable[[KafkaBroker], None] | None,
    ) -> None:
        """Start, and start again after any failure, backing off to 30 s, saying why each time.

        A server not up yet is the usual reason (a warning); anything else (a password the
        production environment lacks, a migration that fails) is logged as an error and shown
        by /health, instead of leaving the service silently unhealthy until someone stops it.
        """
        delay = 0.5
        while True:
            try:
                await self.start(subscriptions, extra_setup)
                self.start_error = None
                self.ready.set()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # /health (open to anyone) names the kind of failure; the log says what it was.
                self.start_error = type(exc).__name__
                if _not_ready_yet(exc):
                    log.warning("dependencies not ready; retrying", error=str(exc), delay=delay)
                else:
                    log.error("the service cannot start; retrying", error=f"{exc!r}", delay=delay)
                await self.stop()
                self.pool, self.broker, self.relay, self._relay_task, self.producer = (None,) * 5
                await asyncio.sleep(delay)
                delay = min(delay * 2, START_RETRY_MAX_SECONDS)
