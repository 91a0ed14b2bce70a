"""One way to assemble a service: runtime, handlers once the servers answer, HTTP, consumers.

Every service's ``main.py`` calls ``service_app`` with what is its own: how to build
its handlers, its routers, and the topics it consumes. HTTP is served from the first
second, so /health can say what is not up yet; consumers and routes wait for the
handlers, and a record that arrives before them comes back later (``Transient``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
from fastapi import APIRouter, FastAPI

from schemas.envelope import Envelope
from services.common.config import settings
from services.common.consumer import Apply, ApplyBatch, Position, Subscription, Transient
from services.common.http import create_http_app
from services.common.logging import get_logger
from services.common.runtime import Runtime

H = TypeVar("H")
log = get_logger(__name__)

# Builds the handlers once the runtime is connected; registers its own clean-ups on the stack.
Wire = Callable[[Runtime, AsyncExitStack], Awaitable[H]]


class Consumer(Generic[H]):
    """A subscription: consumer (and group) name, contract topic, and how handlers apply a record.

    With ``apply_batch`` the consumer takes Kafka's fetches whole, one transaction each
    (see ``services.common.consumer``); ``apply`` still serves when a batch is handled
    in halves until a poison one stands alone and is put aside.
    """

    def __init__(
        self,
        name: str,
        topic: str,
        apply: Callable[[H], Apply],
        apply_batch: Callable[[H], ApplyBatch] | None = None,
        wants: frozenset[str] | None = None,
        contract: bool = True,
        patience_ms: int = 0,
    ) -> None:
        self.name, self.topic, self.apply, self.apply_batch = name, topic, apply, apply_batch
        # The event types it acts on: the others pass by without a transaction.
        self.wants = wants
        # Records must be published events; a consumer of commands (the control room) checks its own.
        self.contract = contract
        # How long its fetches may wait to gather records: for a consumer that may react late.
        self.patience_ms = patience_ms


def _handlers(app: FastAPI) -> Any:
    handlers = getattr(app.state, "handlers", None)
    if handlers is None:
        raise Transient("the service is still starting")  # not poison: it comes back
    return handlers


def _deferred(app: FastAPI, consumer: Consumer[Any]) -> Apply:
    async def apply(conn: asyncpg.Connection, env: Envelope, position: Position) -> None:
        await consumer.apply(_handlers(app))(conn, env, position)

    return apply


def _deferred_batch(app: FastAPI, consumer: Consumer[Any]) -> ApplyBatch | None:
    make = consumer.apply_batch
    if make is None:
        return None

    async def apply_batch(conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Position]]) -> None:
        await make(_handlers(app))(conn, batch)

    return apply_batch


def subscription(app: FastAPI, consumer: Consumer[Any]) -> Subscription:
    """What the runtime subscribes for one consumer, applying once the handlers are wired."""
    return Subscription(
        consumer.name,
        consumer.topic,
        _deferred(app, consumer),
        _deferred_batch(app, consumer),
        consumer.wants,
        consumer.contract,
        consumer.patience_ms,
    )


# How long a stopping service waits for a cancelled background task before going on without it.
CANCEL_WAIT_SECONDS = 10.0


async def cancel_on_exit(task: asyncio.Task[None], wait_seconds: float = CANCEL_WAIT_SECONDS) -> None:
    """Cancel a background task and wait for it, a while (an exit-stack callback).

    A task that swallows its cancellation (a retry loop that took it for an outage) would
    otherwise hold the service's shutdown for ever: its worker lived on, orphaned.
    """
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=wait_seconds)
    if not done:
        log.error("a background task did not stop when cancelled; leaving it", task=task.get_name())
        return
    with contextlib.suppress(asyncio.CancelledError):
        await task


WIRE_RETRY_SECONDS = 1.0


async def wire_until_done(service: str, wire: Wire[H], runtime: Runtime, cleanups: AsyncExitStack) -> H:
    """Wire the handlers, trying again after a failure (what a failed try opened is closed first).

    A worker whose wiring failed once (a database another worker was creating at that
    moment, a server restarting) would otherwise stay unhealthy until someone restarted it.
    """
    while True:
        attempt = AsyncExitStack()
        try:
            handlers = await wire(runtime, attempt)
        except asyncio.CancelledError:
            await attempt.aclose()
            raise
        except Exception as exc:
            await attempt.aclose()
            log.warning("wiring failed; trying again", service=service, error=type(exc).__name__)
            await asyncio.sleep(WIRE_RETRY_SECONDS)
            continue
        cleanups.push_async_callback(attempt.aclose)
        return handlers


def service_app(
    service: str,
    migrations: Path,
    *,
    wire: Wire[H],
    routers: Sequence[APIRouter] = (),
    consumers: Sequence[Consumer[H]] = (),
) -> FastAPI:
    """The ASGI app of one service."""
    runtime = Runtime(service, settings(), [migrations])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        subscriptions = [subscription(app, c) for c in consumers]
        # The handlers' own tasks (and pools) are cleaned up first, while the runtime's pool is
        # still open: closed the other way round, the pool waited on tasks still holding it.
        async with runtime.running(subscriptions), AsyncExitStack() as cleanups:

            async def when_ready() -> None:
                await runtime.ready.wait()
                app.state.handlers = await wire_until_done(service, wire, runtime, cleanups)

            wiring = asyncio.create_task(when_ready(), name=f"{service}-wiring")
            try:
                yield
            finally:
                await cancel_on_exit(wiring)

    async def probe_wiring() -> None:
        if getattr(app.state, "handlers", None) is None:
            raise ConnectionError("handlers not wired yet")

    app = create_http_app(
        service,
        {"postgresql": runtime.probe_database, "kafka": runtime.probe_kafka, "wiring": probe_wiring},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    for router in routers:
        app.include_router(router)
    return app
