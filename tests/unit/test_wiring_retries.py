"""A worker whose wiring fails once tries again, closing what the failed try opened."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import pytest

from services.common import wiring


async def test_failed_wiring_is_tried_again_closing_its_leftovers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wiring, "WIRE_RETRY_SECONDS", 0.0)
    closed: list[int] = []
    tries = 0

    async def wire(_runtime: Any, stack: AsyncExitStack) -> str:
        nonlocal tries
        tries += 1
        attempt = tries

        async def close() -> None:
            closed.append(attempt)

        stack.push_async_callback(close)
        if attempt == 1:
            raise OSError("the database was being created by another worker")
        return "handlers"

    async with AsyncExitStack() as cleanups:
        handlers = await wiring.wire_until_done("booking", wire, None, cleanups)  # type: ignore[arg-type]
        assert handlers == "handlers"
        assert tries == 2
        assert closed == [1]  # the failed try's pool is closed at once, the good one kept
    assert closed == [1, 2]  # and the good one is closed with the service


async def test_wiring_stops_when_the_service_stops() -> None:
    started = asyncio.Event()

    async def wire(_runtime: Any, _stack: AsyncExitStack) -> str:
        started.set()
        raise OSError("never wires")

    async with AsyncExitStack() as cleanups:
        task = asyncio.create_task(wiring.wire_until_done("booking", wire, None, cleanups))  # type: ignore[arg-type]
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
