"""The migration Job's program: as the owner, create and migrate every service's database once.

Each service still migrates at its own start (services/common/db.py `open_pool`, a no-op once
this has run, under the same advisory lock); running it first as one Job makes a failing
migration one failed Job rather than every pod of a rollout crash-looping, and a rollout can
wait for it (`kubectl wait --for=condition=complete job/appointments-migrate`).

Mounted from a ConfigMap (kustomization.yaml) into the project's image and run with its Python.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from services.common.config import SERVICE_DATABASES, Settings, settings
from services.common.db import COMMON_MIGRATIONS, Login, open_pool
from services.common.logging import configure_logging, get_logger
from services.common.shredding import KEYSTORE_DATABASE, KEYSTORE_MIGRATIONS
from services.notifications.adapters import keys as notifications_keys
from services.projections.adapters import keys as projections_keys

log = get_logger("migrate")

# The services that read the key store's keys, and nothing else of it, each granted by its own code.
KEY_READERS: dict[str, Callable[[Settings], Awaitable[Login]]] = {
    "notifications": notifications_keys.grant_key_reading,
    "projections": projections_keys.grant_key_reading,
}


def migrations_of(service: str) -> list[Path]:
    """The folders a service migrates its own database with (as its Runtime does)."""
    module = importlib.import_module(f"services.{service}.main")
    return [COMMON_MIGRATIONS, module.MIGRATIONS]


async def migrate_all() -> list[str]:
    """Migrate each service's database and grant its login role; returns the databases done."""
    cfg = settings()
    done: list[str] = []
    for service in SERVICE_DATABASES:
        # open_pool migrates as the owner, grants the service's role, then logs in as that role
        # (first giving it the Secret's password when it had another).
        pool = await open_pool(cfg.database_url(service), migrations_of(service), max_size=1)
        await pool.close()
        done.append(service)
    keys = await open_pool(cfg.database_url(KEYSTORE_DATABASE), [KEYSTORE_MIGRATIONS], max_size=1)
    await keys.close()
    done.append(KEYSTORE_DATABASE)
    for grant in KEY_READERS.values():
        await grant(cfg)
    return done


def main() -> None:
    """Run the migrations and say which databases are ready."""
    configure_logging("migrate")
    done = asyncio.run(migrate_all())
    log.info("databases migrated", databases=done)


if __name__ == "__main__":
    main()
