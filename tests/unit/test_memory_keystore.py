"""The in-memory key store passes the same contract as the key-store database."""

from __future__ import annotations

import pytest

from services.common.shredding import MemoryKeyStore
from tests.support.keystore_contract import KeyStoreContract


@pytest.fixture
def keys() -> MemoryKeyStore:
    return MemoryKeyStore()


class TestMemoryKeyStore(KeyStoreContract):
    """The contract, in memory."""
