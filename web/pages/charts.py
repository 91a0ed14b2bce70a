"""Bar charts drawn on the server as SVG: the geometry here (pure, no I/O), the markup in
``templates/chart.html``. No JavaScript and no charting library: a few rectangles, lines and
labels, and every chart has a table of the same figures beside it for anyone who cannot see it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 40


@dataclass(frozen=True)
class Series:
    """One kind of bar: its name in the legend and its colour (GOV.UK Frontend's palette)."""

    name: str
    colour: str


@dataclass(frozen=True)
class Bar:
    """One rectangle, with the words a pointer over it shows."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    words: str


@dataclass(frozen=True)
class Chart:
    """A grouped bar chart laid out in a WIDTH x HEIGHT view box."""

    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # y, label
    groups: list[tuple[float, str]]  # x of the group's middle, label
    legend: list[Series]
    baseline: float
    left: int


def nice_top(largest: float) -> float:
    """The axis's top: 1, 2 or 5 times a power of ten at or above ``largest`` (1 for nothing)."""
    if largest <= 0:
        return 1
    power = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 5, 10):
        if largest <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _label(value: float) -> str:
    return f"{value:g}"


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[Series],
    values: Sequence[Sequence[float]],
    top: float | None = None,
) -> Chart:
    """Bars for each group (a week, a period), one per series: ``values[g][s]``; the axis from 0 to
    ``top`` (a nice number above the largest value when None)."""
    top = top if top is not None else nice_top(max((v for row in values for v in row), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_h
    slot = plot_w / max(1, len(groups))
    gap = slot * 0.2
    bar_w = (slot - gap) / max(1, len(series))
    bars: list[Bar] = []
    middles: list[tuple[float, str]] = []
    for g, (group, row) in enumerate(zip(groups, values, strict=True)):
        x0 = LEFT + g * slot + gap / 2
        middles.append((LEFT + g * slot + slot / 2, group))
        for s, (kind, value) in enumerate(zip(series, row, strict=True)):
            height = plot_h * min(value, top) / top
            bars.append(
                Bar(round(x0 + s * bar_w, 2), round(baseline - height, 2), round(bar_w * 0.9, 2),
                    round(height, 2), kind.colour, f"{group}: {kind.name} {_label(value)}")
            )  # fmt: skip
    ticks = [(round(baseline - plot_h * k / 2, 2), _label(top * k / 2)) for k in (0, 1, 2)]
    return Chart(WIDTH, HEIGHT, bars, ticks, middles, list(series), baseline, LEFT)
