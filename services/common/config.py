"""Settings shared by every service, read from the environment (prefix APPOINTMENTS_)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Contract defaults (CONTRACT.md, "Processes and ports").
SERVICE_PORTS: dict[str, int] = {
    "web": 8000,
    "booking": 8001,
    "roster": 8002,
    "notifications": 8003,
    "projections": 8004,
}


def _cores() -> int:
    """The cores this process may run on (a container's cpuset, not the whole host)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Settings(BaseSettings):
    """Where the servers are and how this process behaves; every field overridable by env."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_", extra="ignore")

    # "production" switches logs to JSON only and refuses the Ofcom drama phone range.
    environment: str = "development"
    state_dir: Path = Field(default=PROJECT_ROOT / ".state")
    kafka_bootstrap: str = "127.0.0.1:9092"
    # libpq-style URL without a database name; each service appends its own database.
    pg_url: str = "postgresql://appointments@127.0.0.1:5432"
    # Appended to every database name, so tests can run beside a live stack.
    db_suffix: str = ""
    host: str = "127.0.0.1"
    # HMAC secret for local bearer tokens; `appointments up` writes one into the state folder.
    token_secret: str = "development-only-secret-change-me"
    # Prepended to every topic name on the wire. Empty in production (the contract's names);
    # integration tests set a unique prefix so they never touch a running stack's topics.
    topic_prefix: str = ""
    # The relay wakes on each commit's NOTIFY; this slow poll only backs up a lost notification,
    # so an idle stack asks its database almost nothing.
    relay_poll_seconds: float = 5.0
    log_json: bool = True
    # Booking's processes on its one port; optimistic concurrency keeps them from double booking.
    booking_workers: int = Field(default_factory=_cores, ge=1)

    def database_url(self, database: str) -> str:
        """The URL of one service's own database."""
        return f"{self.pg_url.rstrip('/')}/{database}{self.db_suffix}"

    def port(self, service: str) -> int:
        """The HTTP port of a service, overridable as APPOINTMENTS_<SERVICE>_PORT."""
        import os

        override = os.environ.get(f"APPOINTMENTS_{service.upper()}_PORT")
        return int(override) if override else SERVICE_PORTS[service]

    def topic(self, name: str) -> str:
        """The wire name of a contract topic."""
        return f"{self.topic_prefix}{name}"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
