"""The speed issue 7 sets, each a figure of one run against its bound: met, missed, or not measured."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bench.figures import (
    BIG_STORE_END_TO_END,
    FREE_SLOTS_28_DAYS,
    FREE_SLOTS_DAY,
    PATH_END_TO_END,
    PATH_HTTP,
    PATH_TO_KAFKA,
    PROJECTIONS,
    RAW_APPEND,
    RAW_DRAIN,
    REPLAY,
    REPLAY_DRAIN,
    Row,
    ratio,
)

Rows = Mapping[str, Row]
PASS, MISS, UNMEASURED = "PASS", "MISS", "not measured"


@dataclass(frozen=True)
class Target:
    """A figure the run must reach: at least (or at most) ``bound``, in ``unit`` ("x" or "ms")."""

    key: str
    label: str
    bound: float
    at_least: bool
    unit: str
    measure: Callable[[Rows], float | None]


@dataclass(frozen=True)
class Verdict:
    """A target with the figure one run measured for it (None when its phases did not run)."""

    target: Target
    measured: float | None

    @property
    def met(self) -> bool | None:
        """Whether the figure is within its bound; None when it was not measured."""
        if self.measured is None:
            return None
        t = self.target
        return self.measured >= t.bound if t.at_least else self.measured <= t.bound

    @property
    def mark(self) -> str:
        """PASS, MISS, or not measured."""
        return {True: PASS, False: MISS, None: UNMEASURED}[self.met]

    def needs(self) -> str:
        """The bound as the issue states it, e.g. "≥ 0.50x" or "≤ 50.0 ms"."""
        return f"{'≥' if self.target.at_least else '≤'} {self._figure(self.target.bound)}"

    def shown(self) -> str:
        """The measured figure in the bound's unit, or a dash."""
        return "—" if self.measured is None else self._figure(self.measured)

    def _figure(self, value: float) -> str:
        return f"{value:.2f}x" if self.target.unit == "x" else f"{value:,.1f} {self.target.unit}"


def _rate(num: str, den: str) -> Callable[[Rows], float | None]:
    return lambda rows: ratio(_get(rows, num, lambda r: r.rate), _get(rows, den, lambda r: r.rate))


def _latency(num: str, den: str | None, p99: bool) -> Callable[[Rows], float | None]:
    def pick(row: Row) -> float | None:
        return None if row.latency is None else row.latency.p99_ms if p99 else row.latency.p50_ms

    if den is None:
        return lambda rows: _get(rows, num, pick)
    return lambda rows: ratio(_get(rows, num, pick), _get(rows, den, pick))


def _service_cpu_ms(key: str) -> Callable[[Rows], float | None]:
    def ms(row: Row) -> float | None:
        per = row.per_item(row.service_cpu)
        return None if per is None else per * 1000

    return lambda rows: _get(rows, key, ms)


def _get(rows: Rows, key: str, pick: Callable[[Row], float | None]) -> float | None:
    row = rows.get(key)
    return None if row is None else pick(row)


TARGETS = (
    Target(
        "path-rate", "path POST→Kafka rate ÷ B raw append rate", 0.5, True, "x",
        _rate(PATH_END_TO_END, RAW_APPEND),
    ),
    Target(
        "post-201-p99", "path POST→201 p99 ÷ B raw append p99", 3.0, False, "x",
        _latency(PATH_HTTP, RAW_APPEND, p99=True),
    ),
    Target("to-kafka-p99", "path 201→Kafka p99", 50.0, False, "ms", _latency(PATH_TO_KAFKA, None, p99=True)),
    Target(
        "service-cpu", "booking-service CPU per booking (its whole process tree)", 2.5, False, "ms",
        _service_cpu_ms(PATH_END_TO_END),
    ),
    Target(
        "free-slots", "free slots p50, 28 days ÷ 1 day", 3.0, False, "x",
        _latency(FREE_SLOTS_28_DAYS, FREE_SLOTS_DAY, p99=False),
    ),
    Target(
        "projections", "projections catch-up rate ÷ raw getmany drain", 0.3, True, "x",
        _rate(PROJECTIONS, RAW_DRAIN),
    ),
    # Issue 10: `appointments replay`'s rebuild of every read model, start to swap.
    Target(
        "replay-rate", "replay rate, every model", 25_000, True, "events/s",
        lambda rows: _get(rows, REPLAY, lambda r: r.rate),
    ),
    Target("replay-drain", "replay rate ÷ raw getmany drain", 0.4, True, "x", _rate(REPLAY, REPLAY_DRAIN)),
    Target(
        "big-store", "path rate, preloaded store ÷ empty store", 0.9, True, "x",
        _rate(BIG_STORE_END_TO_END, PATH_END_TO_END),
    ),
)  # fmt: skip


def evaluate(rows: Sequence[Row], targets: Sequence[Target] = TARGETS) -> list[Verdict]:
    """Every target against the rows of one run."""
    by_key = {r.key: r for r in rows}
    return [Verdict(t, t.measure(by_key)) for t in targets]
