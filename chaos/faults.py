"""The faults: each part of the system killed in turn, brought back as a supervisor would, timed.

Each fault is a SIGKILL (or PostgreSQL's immediate stop, which is its crash) at a moment
picked at random while the load runs; the run then does what a process supervisor does
(starts the part again at once) and times how long the part took to answer healthy again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from chaos.stage import Servers
from cli.stack.process import alive
from schemas.topics import BOOKING_EVENTS
from tests.support.cluster import leader_of
from tests.support.services import ServiceProcess, wait_for_workers, worker_pids

HEALTHY_SECONDS = 180.0


@dataclass(frozen=True)
class Injected:
    """One fault: what was killed, when (seconds into the load), and how long until healthy again."""

    fault: str
    target: str
    at_seconds: float
    healthy_after_seconds: float


@dataclass
class System:
    """The processes the run started, which faults kill and bring back."""

    servers: Servers
    booking: ServiceProcess
    projections: list[ServiceProcess]
    booking_workers: int


async def healthy(svc: ServiceProcess, wait_seconds: float = HEALTHY_SECONDS) -> None:
    """Wait until the service answers /health 200."""
    deadline = time.monotonic() + wait_seconds
    async with httpx.AsyncClient(base_url=svc.url) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/health", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{svc.name} not healthy {wait_seconds:.0f} s after a fault")


async def _until_gone(pids: Sequence[int], wait_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + wait_seconds
    while any(alive(p) for p in pids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"processes {list(pids)} outlived their supervisor")
        await asyncio.sleep(0.05)


async def kill_booking_worker(system: System, which: int) -> str:
    """SIGKILL one of booking's worker processes; uvicorn's supervisor starts another."""
    pids = sorted(worker_pids(system.booking))
    pid = pids[which % len(pids)]
    os.kill(pid, signal.SIGKILL)
    await _until_gone([pid])
    await wait_for_workers(system.booking, system.booking_workers, HEALTHY_SECONDS)
    return f"booking worker pid {pid}"


async def kill_relay_holder(system: System) -> str:
    """SIGKILL booking's supervisor, which holds the outbox relay (its workers follow it down)."""
    booking = system.booking
    assert booking.process is not None
    pid, workers = booking.process.pid, sorted(worker_pids(booking))
    booking.kill()
    await _until_gone(workers)
    await booking.start(HEALTHY_SECONDS)
    await wait_for_workers(booking, system.booking_workers, HEALTHY_SECONDS)
    return f"booking supervisor and relay pid {pid}"


async def kill_projections(system: System) -> str:
    """SIGKILL one projections instance; its partitions go to the other until it is back."""
    instance = system.projections[0]
    assert instance.process is not None
    pid = instance.process.pid
    instance.kill()
    await instance.start(HEALTHY_SECONDS)
    return f"projections instance pid {pid}"


async def kill_kafka_leader(system: System) -> str:
    """SIGKILL the node leading booking.events partition 0, and start it again."""
    servers = system.servers
    node = await leader_of(servers.kafka_bootstrap, BOOKING_EVENTS, 0)
    pid = servers.kafka_node_pid(node)
    os.kill(pid, signal.SIGKILL)
    await _until_gone([pid])
    await asyncio.to_thread(servers.start_kafka)  # waits until all three nodes answer
    await healthy(system.booking)
    return f"Kafka node {node} (leader of {BOOKING_EVENTS}-0), pid {pid}"


async def crash_postgres(system: System) -> str:
    """Stop PostgreSQL as a crash would, and start it again (it recovers from its WAL)."""
    await asyncio.to_thread(system.servers.crash_postgres)
    await asyncio.to_thread(system.servers.start_postgres)
    await healthy(system.booking)
    for instance in system.projections:
        await healthy(instance)
    return "PostgreSQL (immediate stop, restart)"


Fault = tuple[str, Callable[[System], Awaitable[str]]]

FAULTS: tuple[Fault, ...] = (
    ("booking worker", lambda s: kill_booking_worker(s, 0)),
    ("booking worker", lambda s: kill_booking_worker(s, 1)),
    ("relay holder", kill_relay_holder),
    ("projections instance", kill_projections),
    ("Kafka broker", kill_kafka_leader),
    ("PostgreSQL", crash_postgres),
)


async def inject(system: System, fault: Fault, started: float) -> Injected:
    """One fault, timed from the kill until the part answers healthy again."""
    name, act = fault
    at = time.monotonic()
    target = await act(system)
    return Injected(name, target, at - started, time.monotonic() - at)
