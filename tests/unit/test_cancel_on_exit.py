"""A stopping service cancels its background tasks and waits for them, but not for ever."""

from __future__ import annotations

import asyncio

from services.common.wiring import cancel_on_exit


async def test_a_task_that_stops_when_cancelled_is_awaited() -> None:
    stopped = asyncio.Event()

    async def polite() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()

    task = asyncio.create_task(polite())
    await asyncio.sleep(0)
    await cancel_on_exit(task)
    assert stopped.is_set() and task.cancelled()


async def test_a_task_that_swallows_its_cancellation_is_left_after_the_wait() -> None:
    released = asyncio.Event()

    async def stubborn() -> None:  # a retry loop that takes its cancellation for an outage
        while not released.is_set():
            try:
                await released.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await cancel_on_exit(task, wait_seconds=0.05)  # returns: the shutdown goes on without it
    assert not task.done()
    released.set()
    await task
