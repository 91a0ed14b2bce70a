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
from services.common.consumer import Apply, Position, Transient
from services.common.http import create_http_app
from services.common.runtime import Runtime

H = TypeVar("H")

# Builds the handlers once the runtime is connected; registers its own clean-ups on the stack.
Wire = Callable[[Runtime, AsyncExitStack], Awaitable[H]]


class Consumer(Generic[H]):
    """A subscription: consumer (and group) name, contract topic, and how handlers apply a record."""

    def __init__(self, name: str, topic: str, apply: Callable[[H], Apply]) -> None:
        self.name, self.topic, self.apply = name, topic, apply


def _deferred(app: FastAPI, consumer: Consumer[Any]) -> Apply:
    async def apply(conn: asyncpg.Connection, env: Envelope, position: Position) -> None:
        handlers = getattr(app.state, "handlers", None)
        if handlers is None:
            raise Transient("the service is still starting")  # not poison: it comes back
        await consumer.apply(handlers)(conn, env, position)

    return apply


async def cancel_on_exit(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait for it (an exit-stack callback)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


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
        async with AsyncExitStack() as cleanups:

            async def when_ready() -> None:
                await runtime.ready.wait()
                app.state.handlers = await wire(runtime, cleanups)

            subscriptions = [(c.name, c.topic, _deferred(app, c)) for c in consumers]
            async with runtime.running(subscriptions):
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
