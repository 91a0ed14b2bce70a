"""`python -m chaos` (`make chaos`): see chaos.run."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from chaos.run import run


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(
        prog="python -m chaos",
        description="Book under load while every part of the system is killed in turn, then check"
        " that nothing acknowledged was lost or doubled.",
    )
    parser.add_argument("--bookings", type=int, default=2000, help="HTTP bookings (default 2000)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault moments")
    parser.add_argument("--keep", action="store_true", help="keep the run's Kafka and PostgreSQL data")
    parser.add_argument("--summary", type=Path, default=None, help="also write the run's summary.json here")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.bookings, keep=args.keep, seed=args.seed, summary=args.summary)))


if __name__ == "__main__":
    main()
