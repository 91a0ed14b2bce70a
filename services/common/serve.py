"""Run one service's ASGI app with uvicorn on its contract port, in one process or several.

With ``workers`` > 1 uvicorn's own supervisor binds the port once and hands it to
that many worker processes; it replaces a worker that dies and, on SIGTERM, stops
every worker gracefully before it exits. Each worker builds its app and its logs
itself (``worker_app``), so every log line names the process that wrote it.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI

from services.common.config import settings
from services.common.logging import configure_logging, get_logger
from services.common.runtime import relay_only

log = get_logger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def serve(service: str, factory: str, *, workers: int = 1) -> None:
    """Serve the app built by ``factory`` ("module:function") on the service's port until stopped.

    With several workers the outbox relay runs here, in the supervisor, on a thread and an
    event loop of its own: in a worker it waited behind that worker's HTTP requests, and a
    booking's record reached Kafka tens of milliseconds after its 201.
    """
    cfg = settings()
    configure_logging(service, json=cfg.log_json)
    structlog.contextvars.bind_contextvars(pid=os.getpid())
    port = cfg.port(service)
    log.info("serving", port=port, workers=workers)
    relay = None
    if workers > 1 and cfg.relay_in_workers:
        os.environ["APPOINTMENTS_RELAY_IN_WORKERS"] = "false"  # the workers read it as they start
        relay = SupervisorRelay(service)
        relay.start()
    try:
        _run_uvicorn(service, factory, workers, cfg.host, port, cfg.log_json)
    finally:
        if relay is not None:
            relay.stop()


class SupervisorRelay:
    """The outbox relay on a thread of the supervisor process, with its own event loop."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{service}-relay", daemon=True)

    def start(self) -> None:
        """Start the thread; returns once its loop runs."""
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        structlog.contextvars.bind_contextvars(pid=os.getpid())
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._ready.set()
        await relay_only(self._service, settings(), self._stopping)

    def stop(self) -> None:
        """Ask the relay to finish its batch and stop; wait a little for it."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(RELAY_STOP_SECONDS)


RELAY_STOP_SECONDS = 15.0


def _run_uvicorn(service: str, factory: str, workers: int, host: str, port: int, json: bool) -> None:
    uvicorn.run(
        factory,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_config=uvicorn_logging(service, json=json),
        # INFO, so the supervisor's word that a worker died and was replaced is kept.
        log_level=logging.INFO,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def worker_app(service: str, create_app: Callable[[], FastAPI]) -> FastAPI:
    """One worker's app: its own structured logs (with its pid), then the service's app."""
    configure_logging(service, json=settings().log_json)
    structlog.contextvars.bind_contextvars(pid=os.getpid())
    _stop_with_supervisor()
    return create_app()


def _stop_with_supervisor() -> None:
    # A SIGKILLed supervisor cannot stop its workers; without this they would live on,
    # orphaned, holding the port and the relay's lock. Linux only; elsewhere a no-op.
    supervisor = multiprocessing.parent_process()
    if supervisor is None or not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor.pid:  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


def uvicorn_logging(service: str, *, json: bool) -> dict[str, Any]:
    """A dictConfig rendering stdlib lines (uvicorn's, aiokafka's) like ours; plain data: it is pickled."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {"()": f"{__name__}.uvicorn_formatter", "service": service, "json": json}
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {"uvicorn": {"handlers": ["stdout"], "level": "INFO", "propagate": False}},
        # Other libraries (aiokafka, asyncpg) only when they warn, in the same shape.
        "root": {"handlers": ["stdout"], "level": "WARNING"},
    }


def uvicorn_formatter(service: str, json: bool) -> logging.Formatter:
    """A formatter for stdlib records: level, logger, time, service and the writer's pid."""

    def origin(_: Any, __: str, event_dict: structlog.typing.EventDict) -> structlog.typing.EventDict:
        event_dict.update(service=service, pid=os.getpid())
        return event_dict

    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            origin,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
