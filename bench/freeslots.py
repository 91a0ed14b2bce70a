"""Free slots over 28 days at one station against one day's, asked of the same running service."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from bench.client import Client
from bench.figures import FREE_SLOTS_28_DAYS, FREE_SLOTS_DAY, Latency, Row
from bench.load import Meter

DAYS = 28
# Requests alternate between the two kinds in blocks of this many, each block metered on its
# own: a slow spell of the shared machine then lands on both kinds alike, not on one.
BLOCK = 10


@dataclass
class _Kind:
    key: str
    label: str
    params: dict[str, str]
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: dict[str, float | None] = field(default_factory=lambda: _zeros("client", "service", "server"))
    offered: int = 0

    def row(self) -> Row:
        return Row(
            self.key, self.label, len(self.latencies), self.wall, Latency.of(self.latencies),
            self.cpu["client"], self.cpu["service"], self.cpu["server"],
        )  # fmt: skip


async def _get(client: Client, url: str, kind: _Kind) -> float:
    started = time.perf_counter()
    response = await client.get(url, params=kind.params)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{kind.label}: {response.status_code} {response.text[:160]}")
    kind.offered = len(response.json())
    return elapsed


async def free_slots(
    client: Client, station_id: str, first: date, requests: int, warmup: int, meter: Meter
) -> tuple[list[Row], dict[str, int]]:
    """GET one day's and 28 days' free slots ``requests`` times each, one at a time, after a warm-up.

    Returns the two rows and how many slots each answer held (the run's bookings taken out).
    """
    url = f"/stations/{station_id}/free-slots"
    day = {"from": first.isoformat(), "to": first.isoformat()}
    month = {"from": first.isoformat(), "to": (first + timedelta(days=DAYS - 1)).isoformat()}
    kinds = [
        _Kind(FREE_SLOTS_DAY, "free slots, 1 day", day),
        _Kind(FREE_SLOTS_28_DAYS, f"free slots, {DAYS} days", month),
    ]
    for _ in range(warmup):
        for kind in kinds:
            await _get(client, url, kind)
    done = 0
    while done < requests:
        size = min(BLOCK, requests - done)
        for kind in kinds:
            start = meter.sample()
            kind.latencies += [await _get(client, url, kind) for _ in range(size)]
            usage = Meter.between(start, meter.sample())
            kind.wall += usage.wall
            _add(kind.cpu, client=usage.client_cpu, service=usage.service_cpu, server=usage.server_cpu)
        done += size
    return [k.row() for k in kinds], {k.key: k.offered for k in kinds}


def _zeros(*names: str) -> dict[str, float | None]:
    return dict.fromkeys(names, 0.0)


def _add(totals: dict[str, float | None], **more: float | None) -> None:
    for name, value in more.items():
        before = totals[name]
        totals[name] = None if before is None or value is None else before + value
