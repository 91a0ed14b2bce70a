"""Settings shared by every service, read from the environment (prefix APPOINTMENTS_)."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The signature algorithms a token may use: public-key ones only (the allowlist is configurable).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)

# Contract defaults (CONTRACT.md, "Processes and ports").
SERVICE_PORTS: dict[str, int] = {
    "web": 8000,
    "booking": 8001,
    "roster": 8002,
    "notifications": 8003,
    "projections": 8004,
    # The local stand-in for GOV.UK Notify (services.notifications.gateway.simulator); never production.
    "simulator": 8005,
}


# Each service's own databases: its login role may reach these and no other (booking keeps the
# key store of crypto-shredding too). Every other database is the owner's alone.
SERVICE_DATABASES: dict[str, tuple[str, ...]] = {
    "booking": ("booking", "keystore"),
    "roster": ("roster",),
    "notifications": ("notifications",),
    "projections": ("projections",),
}


def state_secret(path: Path) -> str:
    """A random secret kept in ``path`` (mode 0600), written by whichever process needs it first."""
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, draft = tempfile.mkstemp(dir=path.parent)  # 0600 from the start
    try:
        with os.fdopen(handle, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
        # A link never replaces: two processes starting together both end up reading the first one.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        os.unlink(draft)
    return path.read_text().strip()


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
    # How many Kafka nodes `appointments up` runs locally: 1 (the default), or a KRaft cluster
    # of 3 (replication 3, min.insync.replicas 2) on the bootstrap port and the ports after it.
    kafka_brokers: int = 1

    @field_validator("kafka_brokers")
    @classmethod
    def _one_or_three(cls, value: int) -> int:
        if value not in (1, 3):
            raise ValueError("APPOINTMENTS_KAFKA_BROKERS is 1 (one broker) or 3 (a replicated cluster)")
        return value

    # The owner's libpq-style URL, without a database name: it creates the databases and the
    # services' login roles and runs the migrations; each service appends its own database.
    pg_url: str = "postgresql://appointments@127.0.0.1:5432"
    # Each service's login role (appointments_<service><db_suffix>) serves its database once
    # migrated; its password comes from APPOINTMENTS_PG_PASSWORD_<SERVICE>, which production
    # must set; elsewhere one is generated into the state folder when unset.
    pg_password_booking: SecretStr | None = None
    pg_password_roster: SecretStr | None = None
    pg_password_notifications: SecretStr | None = None
    pg_password_projections: SecretStr | None = None
    # Seals the values put aside on the deadletter topic (services.common.deadletters).
    # Production must set it; elsewhere one is generated into the state folder when unset.
    deadletter_key: SecretStr | None = None
    # How long the topics holding callers' details in clear (the control room's requests) and
    # the dead letters keep a record: long enough to process and look into it, no longer.
    personal_topic_retention_hours: float = Field(default=7 * 24, gt=0)
    # Appended to every database name, so tests can run beside a live stack.
    db_suffix: str = ""
    host: str = "127.0.0.1"
    # Keys the pseudonymous subject ids of personal data (HMAC); `appointments up` keeps one in the
    # state folder. Named from when it also signed tokens: bearer tokens are JWTs now (below).
    token_secret: str = "development-only-secret-change-me"
    # Bearer tokens are JWTs (services.common.auth). Production: the identity provider's JWKS URL,
    # issuer and audience, and the role claim it uses. Locally: an Ed25519 key pair made on first
    # use in token_keys_dir (default <state_dir>/tokens), which `appointments token` signs with.
    token_issuer: str = "station-appointments-local"
    token_audience: str = "station-appointments"
    token_jwks_url: str = ""
    token_keys_dir: Path | None = None
    token_algorithms: list[str] = Field(default_factory=lambda: ["EdDSA"])
    token_role_claim: str = "role"
    # Clock skew allowed on exp, nbf and iat between the issuer and this process.
    token_leeway_seconds: float = Field(default=10.0, ge=0, le=300)
    # Prepended to every topic name on the wire. Empty in production (the contract's names);
    # integration tests set a unique prefix so they never touch a running stack's topics.
    topic_prefix: str = ""
    # The relay wakes on each commit's NOTIFY; this slow poll only backs up a lost notification,
    # so an idle stack asks its database almost nothing.
    relay_poll_seconds: float = 5.0
    # Whether each serving process may run the outbox relay (one at a time holds its lock).
    # A service served by several processes runs it in the supervisor instead (serve.py), so
    # the relay's event loop never waits behind HTTP requests.
    relay_in_workers: bool = True
    log_json: bool = True
    # Booking's processes on its one port; optimistic concurrency keeps them from double booking.
    booking_workers: int = Field(default_factory=_cores, ge=1)

    @field_validator("token_algorithms")
    @classmethod
    def _asymmetric_only(cls, algorithms: list[str]) -> list[str]:
        # An HMAC or "none" algorithm beside public keys would let a public key sign tokens.
        refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(f"token algorithms must be among {sorted(ASYMMETRIC_ALGORITHMS)}: {refused}")
        return algorithms

    @property
    def token_keys(self) -> Path:
        """The folder of the local token key pair."""
        return self.token_keys_dir or self.state_dir / "tokens"

    def database_url(self, database: str) -> str:
        """The owner's URL of one service's own database."""
        return f"{self.pg_url.rstrip('/')}/{database}{self.db_suffix}"

    def login_role(self, service: str) -> str:
        """The login role a service serves on: its own, one per database suffix."""
        return f"appointments_{service}{self.db_suffix}"

    def login_password(self, service: str) -> str:
        """A service's login-role password: the environment's, else (not in production) the state folder's."""
        given = getattr(self, f"pg_password_{service}")
        if isinstance(given, SecretStr):
            return given.get_secret_value()
        if self.is_production:
            raise RuntimeError(
                f"APPOINTMENTS_PG_PASSWORD_{service.upper()} is not set: in production each "
                "service's database password comes from the environment"
            )
        return state_secret(self.state_dir / "pg-passwords" / service)

    def deadletter_secret(self) -> str:
        """The dead-letter sealing secret: the environment's, else (not in production) the state folder's."""
        if self.deadletter_key is not None:
            return self.deadletter_key.get_secret_value()
        if self.is_production:
            raise RuntimeError(
                "APPOINTMENTS_DEADLETTER_KEY is not set: production seals dead letters with it"
            )
        return state_secret(self.state_dir / "deadletter-key")

    def service_of(self, database: str) -> str | None:
        """The service whose login role serves ``database`` (its full name); None: the owner's alone."""
        for service, names in SERVICE_DATABASES.items():
            if database in (f"{name}{self.db_suffix}" for name in names):
                return service
        return None

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
