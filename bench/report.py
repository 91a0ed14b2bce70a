"""The pure half of the benchmark: percentiles, rates, ratios, the printed table and the JSON."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

# Row keys: the two baselines and the three views of the booking path.
RAW_PRODUCE = "A"
RAW_APPEND = "B"
PATH_HTTP = "path-http"
PATH_TO_KAFKA = "path-201-to-kafka"
PATH_END_TO_END = "path-end-to-end"
BASELINES = (RAW_PRODUCE, RAW_APPEND)


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
    ``wall_seconds`` is None for a row that only describes a latency (it has no rate).
    """

    key: str
    label: str
    count: int
    wall_seconds: float | None
    latency: Latency
    client_cpu: float | None = None
    service_cpu: float | None = None
    server_cpu: float | None = None

    @property
    def rate(self) -> float | None:
        """Bookings (or records) per second over the measured window."""
        return ratio(float(self.count), self.wall_seconds)

    def per_booking(self, cpu_seconds: float | None) -> float | None:
        """CPU seconds per booking."""
        return ratio(cpu_seconds, float(self.count))


@dataclass
class Report:
    """Every row of one run, with the run's parameters and what the figures mean."""

    rows: list[Row]
    parameters: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def row(self, key: str) -> Row:
        """The row with this key; KeyError when the run did not measure it."""
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def path_over(self, baseline: str) -> float | None:
        """The booking path's end-to-end rate as a fraction of a baseline's rate."""
        try:
            return ratio(self.row(PATH_END_TO_END).rate, self.row(baseline).rate)
        except KeyError:
            return None

    def to_json(self) -> dict[str, Any]:
        """The figures as plain JSON-ready data."""
        return {
            "parameters": self.parameters,
            "rows": [
                {
                    "key": r.key,
                    "label": r.label,
                    "count": r.count,
                    "wall_seconds": r.wall_seconds,
                    "per_second": r.rate,
                    "latency_ms": {
                        "p50": r.latency.p50_ms,
                        "p99": r.latency.p99_ms,
                        "mean": r.latency.mean_ms,
                        "max": r.latency.max_ms,
                    },
                    "cpu_seconds_per_booking": {
                        "client": r.per_booking(r.client_cpu),
                        "service": r.per_booking(r.service_cpu),
                        "servers": r.per_booking(r.server_cpu),
                    },
                }
                for r in self.rows
            ],
            "ratios": {
                "path/A": self.path_over(RAW_PRODUCE),
                "path/B": self.path_over(RAW_APPEND),
            },
            "notes": self.notes,
        }


def fmt_number(value: float | None, digits: int = 1) -> str:
    """A figure with thousands separators, or a dash when unknown."""
    return "—" if value is None else f"{value:,.{digits}f}"


def fmt_cpu(value: float | None) -> str:
    """CPU seconds to three significant figures (they are small), or a dash when unknown."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    # Fixed-point, not .3g: a column of 0.00651 and 8.2e-05 reads badly.
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def fmt_ratio(value: float | None) -> str:
    """A ratio to two decimals, or a dash when unknown."""
    return "—" if value is None else f"{value:.2f}"


def render(report: Report) -> Table:
    """The report as a rich table."""
    params = report.parameters
    table = Table(
        title=(
            f"Booking write path vs raw baselines — {params.get('count', '?')} each, "
            f"concurrency {params.get('concurrency', '?')}, warm-up {params.get('warmup', '?')}"
        ),
        caption="\n".join(report.notes) or None,
        caption_justify="left",
    )
    table.add_column("measurement")
    table.add_column("bookings/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("client CPU\ns/booking", justify="right")
    table.add_column("service CPU\ns/booking", justify="right")
    table.add_column("Kafka+PG CPU\ns/booking", justify="right")
    table.add_column("path ÷ this", justify="right")
    for row in report.rows:
        table.add_row(
            row.label,
            fmt_number(row.rate),
            fmt_number(row.latency.p50_ms, 2),
            fmt_number(row.latency.p99_ms, 2),
            fmt_cpu(row.per_booking(row.client_cpu)),
            fmt_cpu(row.per_booking(row.service_cpu)),
            fmt_cpu(row.per_booking(row.server_cpu)),
            fmt_ratio(report.path_over(row.key)) if row.key in BASELINES else "",
        )
    return table
