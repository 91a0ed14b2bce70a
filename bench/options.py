"""The command line of `python -m bench`: how much, how many in flight, which phases."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# In the order they run: each phase of the targets, and what it needs to run.
PHASES = ("produce", "append", "path", "free-slots", "projections", "big-store", "cluster", "replay", "sms")
DEFAULT_COUNT = 1000
DEFAULT_CONCURRENCY = 8
DEFAULT_STORE_EVENTS = 1_000_000
DEFAULT_BACKLOG = 20_000
DEFAULT_FREE_SLOT_REQUESTS = 300


@dataclass(frozen=True)
class Options:
    """What one run measures."""

    count: int
    concurrency: int
    warmup: int
    phases: frozenset[str]
    store_events: int
    backlog: int
    free_slot_requests: int
    output: Path | None

    def runs(self, phase: str) -> bool:
        """Whether ``phase`` was asked for."""
        return phase in self.phases

    @property
    def free_slot_warmup(self) -> int:
        """Warm-up requests of each free-slots kind."""
        return max(10, self.free_slot_requests // 10)


def _phases(text: str) -> frozenset[str]:
    chosen = frozenset(p.strip() for p in text.split(",") if p.strip())
    unknown = chosen - set(PHASES)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(PHASES)} (got {text!r})")
    return chosen


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Read the command line (``argv``, or the process's)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the booking write path, free slots, the projections and a big store "
        "against raw Kafka and PostgreSQL baselines, and print each target's figure beside it.",
    )
    add = parser.add_argument
    add("--count", type=int, default=DEFAULT_COUNT, help="bookings per phase (default 1000)")
    add("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="workers in flight (default 8)")
    add("--warmup", type=int, default=None, help="warm-up bookings per phase (default count/10, at least 20)")
    add("--phases", type=_phases, default=frozenset(PHASES), help=f"a subset of {','.join(PHASES)}")
    add("--store-events", type=int, default=DEFAULT_STORE_EVENTS, help="events preloaded for big-store")
    add("--backlog", type=int, default=DEFAULT_BACKLOG, help="booking events the projections catch up on")
    add("--free-slot-requests", type=int, default=DEFAULT_FREE_SLOT_REQUESTS, help="requests of each kind")
    add("--output", type=Path, default=None, help="the JSON file (default .state/bench/latest.json)")
    args = parser.parse_args(argv)
    if min(args.count, args.concurrency, args.store_events, args.backlog, args.free_slot_requests) < 1:
        parser.error("--count, --concurrency, --store-events, --backlog, --free-slot-requests: at least 1")
    warmup = max(20, args.count // 10) if args.warmup is None else args.warmup
    return Options(
        count=args.count,
        concurrency=args.concurrency,
        warmup=warmup,
        phases=args.phases,
        store_events=args.store_events,
        backlog=args.backlog,
        free_slot_requests=args.free_slot_requests,
        output=args.output,
    )
