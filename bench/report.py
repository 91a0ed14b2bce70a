"""The report of one run: its rows, the targets beside their bounds, the printed tables and the JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bench.figures import BASELINES, CLUSTER_END_TO_END, PATH_END_TO_END, RAW_APPEND, RAW_PRODUCE, Row, ratio
from bench.targets import MISS, PASS, Verdict, evaluate


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

    def cluster_over_path(self) -> float | None:
        """The path's rate on three Kafka nodes as a fraction of its rate on the one broker."""
        try:
            return ratio(self.row(CLUSTER_END_TO_END).rate, self.row(PATH_END_TO_END).rate)
        except KeyError:
            return None

    def verdicts(self) -> list[Verdict]:
        """Every target of the issue against this run's figures."""
        return evaluate(self.rows)

    def to_json(self) -> dict[str, Any]:
        """The figures as plain JSON-ready data."""
        return {
            "parameters": self.parameters,
            "rows": [_row_json(r) for r in self.rows],
            "ratios": {
                "path/A": self.path_over(RAW_PRODUCE),
                "path/B": self.path_over(RAW_APPEND),
                "cluster path/path": self.cluster_over_path(),
            },
            "targets": [
                {
                    "key": v.target.key,
                    "label": v.target.label,
                    "measured": v.measured,
                    "bound": v.target.bound,
                    "comparison": ">=" if v.target.at_least else "<=",
                    "unit": v.target.unit,
                    "met": v.met,
                    "verdict": v.mark,
                }
                for v in self.verdicts()
            ],
            "notes": self.notes,
        }


def _row_json(r: Row) -> dict[str, Any]:
    latency = r.latency
    return {
        "key": r.key,
        "label": r.label,
        "count": r.count,
        "wall_seconds": r.wall_seconds,
        "per_second": r.rate,
        "latency_ms": None
        if latency is None
        else {"p50": latency.p50_ms, "p99": latency.p99_ms, "mean": latency.mean_ms, "max": latency.max_ms},
        "cpu_seconds_per_item": {
            "client": r.per_item(r.client_cpu),
            "service": r.per_item(r.service_cpu),
            "servers": r.per_item(r.server_cpu),
        },
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


def render(report: Report) -> RenderableType:
    """The report as two rich tables: every measurement, then every target beside its bound."""
    return Group(_measurements(report), _targets(report.verdicts()))


def _measurements(report: Report) -> Table:
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
    table.add_column("per second", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("client CPU\ns/item", justify="right")
    table.add_column("service CPU\ns/item", justify="right")
    table.add_column("Kafka+PG CPU\ns/item", justify="right")
    table.add_column("path ÷ this", justify="right")
    for row in report.rows:
        latency = row.latency
        table.add_row(
            row.label,
            fmt_number(row.rate),
            fmt_number(None if latency is None else latency.p50_ms, 2),
            fmt_number(None if latency is None else latency.p99_ms, 2),
            fmt_cpu(row.per_item(row.client_cpu)),
            fmt_cpu(row.per_item(row.service_cpu)),
            fmt_cpu(row.per_item(row.server_cpu)),
            fmt_ratio(report.path_over(row.key)) if row.key in BASELINES else "",
        )
    return table


_STYLES = {PASS: "bold green", MISS: "bold red"}


def _targets(verdicts: list[Verdict]) -> Table:
    missed = sum(1 for v in verdicts if v.met is False)
    table = Table(title=f"Targets of issue 7 — {missed} missed of {len(verdicts)}")
    table.add_column("target")
    table.add_column("measured", justify="right")
    table.add_column("needs", justify="right")
    table.add_column("verdict")
    for v in verdicts:
        table.add_row(v.target.label, v.shown(), v.needs(), Text(v.mark, style=_STYLES.get(v.mark, "dim")))
    return table
