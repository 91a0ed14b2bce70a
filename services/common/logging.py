"""Structured logs: JSON lines with the service name and the correlation id, never personal data."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

# The correlation id of the request or record being handled; every log line carries it.
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# Keys that would carry personal data; dropped from every event dict as a last line of defence.
_PERSONAL_KEYS = frozenset({"name", "caller_name", "phone", "phone_number", "address", "postcode"})


def _add_correlation(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    cid = correlation_id.get()
    if cid is not None:
        event_dict.setdefault("correlation_id", cid)
    return event_dict


def _drop_personal(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    for key in _PERSONAL_KEYS & event_dict.keys():
        event_dict[key] = "[redacted]"
    return event_dict


def configure_logging(service: str, *, json: bool = True, level: int = logging.INFO) -> None:
    """Set structlog (and the stdlib root logger) up for one service process."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_correlation,
            _drop_personal,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (uvicorn, aiokafka) log through stdlib; keep their noise at WARNING.
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(name)s %(message)s")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
