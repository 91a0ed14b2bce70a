"""Run one service's ASGI app with uvicorn on its contract port."""

from __future__ import annotations

import logging
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from services.common.config import settings
from services.common.logging import configure_logging


def serve(service: str, create_app: Callable[[], FastAPI]) -> None:
    """Configure logging and serve ``create_app()`` on the service's port until stopped."""
    cfg = settings()
    configure_logging(service, json=cfg.log_json)
    uvicorn.run(
        create_app(),
        host=cfg.host,
        port=cfg.port(service),
        log_level=logging.WARNING,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
