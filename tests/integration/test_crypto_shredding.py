"""Crypto-shredding on the real key store: the key-store contract, on its own database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from services.common.config import Settings
from services.common.db import drop_database, open_pool
from services.common.shredding import KEYSTORE_MIGRATIONS, PgKeyStore
from tests.support.keystore_contract import KeyStoreContract

pytestmark = pytest.mark.integration


@pytest.fixture
async def keys(test_settings: Settings) -> AsyncIterator[PgKeyStore]:
    url = test_settings.database_url(f"keystore_{uuid.uuid4().hex[:6]}")
    pool = await open_pool(url, [KEYSTORE_MIGRATIONS])
    yield PgKeyStore(pool)
    await pool.close()
    await drop_database(url)


class TestPostgresKeyStore(KeyStoreContract):
    """The contract, on the key-store database."""
