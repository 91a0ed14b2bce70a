"""Every booking process follows the county, whichever of them `appointments seed` reached."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from services.common.db import drop_database
from services.common.shredding import KEYSTORE_DATABASE
from tests.support.services import auth, seed_county, service, wait_for_workers

pytestmark = pytest.mark.integration
WAIT_SECONDS = 30.0


async def test_a_county_loaded_through_one_worker_reaches_the_other_at_once(
    test_settings: Settings, tmp_path: Path
) -> None:
    suffix = f"{test_settings.db_suffix}county{uuid.uuid4().hex[:6]}"
    booking = service("booking", tmp_path, APPOINTMENTS_DB_SUFFIX=suffix, APPOINTMENTS_BOOKING_WORKERS="2")
    try:
        await booking.start(wait_seconds=120)
        workers = await wait_for_workers(booking, 2, wait_seconds=120)
        await seed_county(booking)  # one request: one worker records it
        answered: dict[int, int] = {}
        # A new connection per request, so the kernel hands them to both workers.
        limits = httpx.Limits(max_keepalive_connections=0)
        deadline = time.monotonic() + WAIT_SECONDS
        async with httpx.AsyncClient(
            base_url=booking.url, headers=auth(Role.CALL_TAKER), limits=limits
        ) as client:
            while time.monotonic() < deadline and set(answered) != workers:
                response = await client.get("/reference/county")
                pid = int(response.headers["x-served-by"])
                if response.status_code == 200:
                    answered[pid] = response.status_code
                await asyncio.sleep(0.05)
        assert set(answered) == workers, f"knew the county: {sorted(answered)} of {sorted(workers)}"
    finally:
        booking.stop()
        own = test_settings.model_copy(update={"db_suffix": suffix})
        for name in ("booking", KEYSTORE_DATABASE):
            await drop_database(own.database_url(name))
