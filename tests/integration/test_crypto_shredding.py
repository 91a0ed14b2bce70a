"""Crypto-shredding on the real key store: erasing a subject's key makes every sealed copy unreadable."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from services.booking.adapters.personal import seal_caller
from services.common.config import Settings
from services.common.db import drop_database, open_pool
from services.common.shredding import KEYSTORE_MIGRATIONS, KeyStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def keys(test_settings: Settings) -> AsyncIterator[KeyStore]:
    url = test_settings.database_url(f"keystore_{uuid.uuid4().hex[:6]}")
    pool = await open_pool(url, [KEYSTORE_MIGRATIONS])
    yield KeyStore(pool)
    await pool.close()
    await drop_database(url)


async def test_an_erased_callers_details_can_never_be_read_again_and_a_new_booking_gets_a_new_key(
    keys: KeyStore,
) -> None:
    caller, texts = await seal_caller(
        keys, name="Jane Citizen", phone="+447700900123", address=None,
        texts={"summary": "Bike stolen"}, secret="s",
    )  # fmt: skip
    assert await keys.open(caller.name) == "Jane Citizen"
    assert await keys.open(texts["summary"]) == "Bike stolen"
    # The same caller again shares the key, so one erasure covers every booking.
    again, _ = await seal_caller(
        keys, name="Jane Citizen", phone="+447700900123", address=None, texts={}, secret="s"
    )
    assert again.subject_id == caller.subject_id

    assert await keys.erase(caller.subject_id, erased_by="auditor:a1") is True
    assert await keys.open(caller.name) is None
    assert await keys.open(texts["summary"]) is None
    assert await keys.erase(caller.subject_id, erased_by="auditor:a1") is False

    after, _ = await seal_caller(
        keys, name="Jane Citizen", phone="+447700900123", address=None, texts={}, secret="s"
    )
    assert after.subject_id != caller.subject_id
    assert await keys.open(after.name) == "Jane Citizen"
    assert await keys.open(caller.name) is None  # the old copies stay unreadable
