"""`appointments replay`'s rebuild speed: every read model rebuilt from a backlog and swapped in.

On a stage of its own: a backlog of booking events on a fresh topic, drained raw (the floor),
caught up on by `python -m services.projections` (the live tables and positions a replay
replaces), then replayed by the command's own code, in this process, from its start (schema,
Kafka consumer) to its swap.
"""

from __future__ import annotations

import resource
from dataclasses import replace
from pathlib import Path

from bench.catchup import catch_up
from bench.drain import raw_drain
from bench.figures import REPLAY, REPLAY_CATCH_UP, REPLAY_DRAIN, Row
from bench.forms import backlog
from bench.load import Meter
from bench.offer import publish
from bench.options import Options
from bench.phases import BOOKING_SPEC, Outcome
from bench.stage import Run, provisioned
from schemas.topics import BOOKING_EVENTS
from services.projections.adapters.models import models_named
from services.projections.adapters.replay import Replay


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def replay(run: Run, options: Options, log_dir: Path) -> Outcome:
    """The backlog drained raw, caught up on live, then every model replayed and swapped in."""
    events = await backlog(options.backlog, run.run_id, run.secret, run.now)
    async with provisioned(run.stage("replay")) as stage:
        topic = stage.settings.topic(BOOKING_EVENTS)
        await publish(run.kafka_bootstrap, topic, events)
        drained = await raw_drain(run.kafka_bootstrap, topic, BOOKING_SPEC.partitions, run.meter())
        caught = await catch_up(run, stage, len(events), log_dir / "projections-replay.log")
        if caught.timed_out:
            raise RuntimeError(
                f"the live projections applied {caught.applied} of {len(events)}: nothing to replay"
            )
        meter = run.meter()
        start, workers = meter.sample(), _children_cpu()
        report = await Replay(stage.settings, models_named([])).run()
        usage = Meter.between(start, meter.sample())
        # The replay's forked workers, reaped by its end, count as the command's CPU.
        workers = _children_cpu() - workers
    rebuilt = Row(
        REPLAY, "replay, every model (start to swap)", report.records, usage.wall, None,
        usage.client_cpu + workers, None, usage.server_cpu,
    )  # fmt: skip
    live = replace(caught.rows[0], key=REPLAY_CATCH_UP, label="live catch-up, same backlog")
    return Outcome(
        [replace(drained, key=REPLAY_DRAIN, label="raw getmany drain (replay's topic)"), live, rebuilt],
        {
            "replay_backlog": len(events),
            "replay_records": report.records,
            "replay_outcomes": dict(report.outcomes),
            "replay_swap_ms": report.swap_seconds * 1000,
            "replay_worker_cpu_seconds": workers,
        },
    )
