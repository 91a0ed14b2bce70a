"""A service that cannot start says why, and tries again, instead of staying silently unhealthy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from services.common.config import Settings
from services.common.consumer import Subscription
from services.common.runtime import Runtime


class Flaky(Runtime):
    """A runtime whose first start fails with ``first``; the next one succeeds."""

    def __init__(self, first: Exception) -> None:
        super().__init__("booking", Settings(), [])
        self.first: Exception | None = first
        self.starts = 0
        self.failed = asyncio.Event()

    async def start(
        self, subscriptions: Sequence[Subscription] = (), extra_setup: Callable[[Any], None] | None = None
    ) -> None:
        self.starts += 1
        if self.first is not None:
            failure, self.first = self.first, None
            self.failed.set()
            raise failure

    async def stop(self) -> None:
        return None


@pytest.mark.parametrize(
    "failure", [RuntimeError("APPOINTMENTS_PG_PASSWORD_BOOKING is not set"), OSError("refused")]
)
async def test_a_failed_start_is_shown_then_tried_again(failure: Exception) -> None:
    runtime = Flaky(failure)
    task = asyncio.create_task(runtime._start_with_retries([], None))
    await asyncio.wait_for(runtime.failed.wait(), 5)
    await asyncio.sleep(0)  # the failure recorded before the back-off sleep
    with pytest.raises(ConnectionError, match=type(failure).__name__):
        await runtime.probe_database()  # /health names the kind of failure meanwhile
    await asyncio.wait_for(task, 5)
    assert runtime.starts == 2 and runtime.ready.is_set() and runtime.start_error is None
