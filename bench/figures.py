"""What one measurement found: a latency distribution, a rate, CPU per item; and the row keys."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Row keys: the two baselines and the three views of the booking path.
RAW_PRODUCE = "A"
RAW_APPEND = "B"
PATH_HTTP = "path-http"
PATH_TO_KAFKA = "path-201-to-kafka"
PATH_END_TO_END = "path-end-to-end"
BASELINES = (RAW_PRODUCE, RAW_APPEND)
# The same path on a store preloaded with a long history.
BIG_STORE_HTTP = "big-store-http"
BIG_STORE_TO_KAFKA = "big-store-201-to-kafka"
BIG_STORE_END_TO_END = "big-store-end-to-end"
# The same path with Kafka as a three-node cluster (replication 3, min.insync.replicas 2).
CLUSTER_HTTP = "cluster-http"
CLUSTER_TO_KAFKA = "cluster-201-to-kafka"
CLUSTER_END_TO_END = "cluster-end-to-end"
# GET free-slots for one day and for 28 days, at one station.
FREE_SLOTS_DAY = "free-slots-1-day"
FREE_SLOTS_28_DAYS = "free-slots-28-days"
# A backlog of booking events: a raw getmany drain, and the projections catching up.
RAW_DRAIN = "raw-drain"
PROJECTIONS = "projections-catch-up"
PROJECTIONS_RUNNING = "projections-after-start"
# The same kind of backlog on a stage of its own: drained raw, caught up on live, then replayed.
REPLAY_DRAIN = "replay-raw-drain"
REPLAY_CATCH_UP = "replay-live-catch-up"
REPLAY = "replay"
# Issue 9: booking events to queued texts, and the gateway's sends to the Notify simulator.
SMS_QUEUED = "sms-queued"
SMS_OUTBOUND_ROW = "sms-outbound"
GATEWAY_ADAPTER = "gateway-adapter"
GATEWAY_SERVICE = "gateway-service"


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile of ``values``, interpolating between closest ranks (as numpy does)."""
    if not values:
        raise ValueError("no values")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile {pct} is outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is unknown or the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Latency:
    """A latency distribution, in milliseconds."""

    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        """Summarise latencies given in seconds."""
        return cls(
            p50_ms=percentile(seconds, 50) * 1000,
            p99_ms=percentile(seconds, 99) * 1000,
            mean_ms=sum(seconds) / len(seconds) * 1000,
            max_ms=max(seconds) * 1000,
        )


@dataclass(frozen=True)
class Row:
    """One line of the report: what was measured, how many, how fast, at what CPU cost.

    CPU figures are totals over the measured window; the report divides by ``count``.
    ``wall_seconds`` is None for a row that only describes a latency (it has no rate),
    ``latency`` None for one that only has a rate (a drain of a whole topic).
    """

    key: str
    label: str
    count: int
    wall_seconds: float | None
    latency: Latency | None
    client_cpu: float | None = None
    service_cpu: float | None = None
    server_cpu: float | None = None

    @property
    def rate(self) -> float | None:
        """Items (bookings, requests, records) per second over the measured window."""
        return ratio(float(self.count), self.wall_seconds)

    def per_item(self, cpu_seconds: float | None) -> float | None:
        """CPU seconds per item."""
        return ratio(cpu_seconds, float(self.count))
