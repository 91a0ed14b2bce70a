"""When each booking's record reached this process from the booking.events topic."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Arrivals:
    """When each booking's record reached this process from the booking.events topic."""

    consumer: Any
    at: dict[str, float] = field(default_factory=dict)
    value_bytes: list[int] = field(default_factory=list)
    header_bytes: list[int] = field(default_factory=list)
    _waiting: set[str] = field(default_factory=set)
    _all_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Read the topic until cancelled, stamping each appointment id on first sight."""
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    key = record.key.decode()
                    if key not in self.at:
                        self.at[key] = now
                        self.value_bytes.append(len(record.value))
                        self.header_bytes.append(sum(len(k) + len(v) for k, v in record.headers or ()))
                    self._waiting.discard(key)
            if not self._waiting:
                self._all_in.set()

    def expect(self, appointment_id: str) -> None:
        """Note an appointment id whose record is still to come (unless it came already)."""
        if appointment_id not in self.at:
            self._waiting.add(appointment_id)
            self._all_in.clear()

    async def wait(self, seconds: float) -> None:
        """Until every expected record arrived, or ``seconds`` passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_in.wait(), seconds)
