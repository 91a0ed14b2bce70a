"""Shared fixtures: `servers` gives integration tests a real Kafka and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from services.common.config import settings

if TYPE_CHECKING:
    from tests.support.servers import Servers

INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as `integration`."""
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """Kafka and PostgreSQL for the whole session, with the contract topics; see tests/support."""
    # Imported here so unit-test runs never load the server machinery.
    from tests.support.servers import find_or_start_servers

    found, stop = find_or_start_servers()
    wanted = {
        "APPOINTMENTS_KAFKA_BOOTSTRAP": found.kafka_bootstrap,
        "APPOINTMENTS_PG_URL": found.pg_url,
        # Tests may share a server with a running `make run` stack: their databases
        # get their own names so they never touch the stack's data.
        "APPOINTMENTS_DB_SUFFIX": os.environ.get("APPOINTMENTS_DB_SUFFIX", "_test"),
    }
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    settings.cache_clear()
    try:
        yield found
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        settings.cache_clear()
        stop()
