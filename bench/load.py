"""Driving load the same way in every phase: a fixed number of workers, each awaiting its call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bench import cpu, proctree

T = TypeVar("T")


async def drive(items: Sequence[T], concurrency: int, one: Callable[[T], Awaitable[None]]) -> list[float]:
    """Run ``one`` over ``items`` with ``concurrency`` workers; returns each call's latency in seconds.

    Each worker awaits its call before taking the next item, so at most
    ``concurrency`` calls are in flight: a closed loop, like call takers at screens.
    """
    latencies: list[float] = []
    # One iterator shared by every worker: next() runs between awaits, so no item is taken twice.
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            started = time.perf_counter()
            await one(item)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return latencies


@dataclass(frozen=True)
class Sample:
    """Wall and CPU clocks read at one instant."""

    wall: float
    client_cpu: float
    service_cpu: float | None
    server_cpu: float | None


@dataclass(frozen=True)
class Usage:
    """What a measured window cost: wall seconds, and CPU seconds per party (None when unreadable)."""

    wall: float
    client_cpu: float
    service_cpu: float | None
    server_cpu: float | None


class Meter:
    """Reads this process's, a service's and the servers' CPU clocks at a window's ends.

    The service counts as its whole process tree: a supervisor and all its workers.
    """

    def __init__(self, servers: cpu.Servers, service_pid: int | None = None) -> None:
        self._servers = servers
        self._service_pid = service_pid

    def sample(self) -> Sample:
        """Read every clock now."""
        service = proctree.tree_cpu(self._service_pid) if self._service_pid is not None else None
        return Sample(time.perf_counter(), cpu.own_cpu(), service, self._servers.cpu())

    @staticmethod
    def between(start: Sample, end: Sample) -> Usage:
        """The cost of the window from ``start`` to ``end``."""
        return Usage(
            wall=end.wall - start.wall,
            client_cpu=end.client_cpu - start.client_cpu,
            service_cpu=cpu.delta(start.service_cpu, end.service_cpu),
            server_cpu=cpu.delta(start.server_cpu, end.server_cpu),
        )
