"""The phases that need a stage of their own: the projections' backlog, the path on a big store,
and the path on a three-node Kafka cluster."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench import cpu
from bench.catchup import catch_up
from bench.drain import raw_drain
from bench.figures import (
    BIG_STORE_END_TO_END,
    BIG_STORE_HTTP,
    BIG_STORE_TO_KAFKA,
    CLUSTER_END_TO_END,
    CLUSTER_HTTP,
    CLUSTER_TO_KAFKA,
)
from bench.forms import backlog
from bench.offer import publish
from bench.options import Options
from bench.path import PathKeys
from bench.phases import BOOKING_SPEC, Outcome, path, running_booking
from bench.plan import Plan
from bench.preload import preload
from bench.stage import Run, provisioned
from schemas.topics import BOOKING_EVENTS
from services.booking.domain.calendar import local_date
from services.common.config import PROJECT_ROOT
from services.common.db import COMMON_MIGRATIONS, open_pool
from services.common.reference import load_county
from tests.support.cluster import NODES, kafka_cluster

# The booking service's own migrations, applied here first so the store can be filled before it starts.
BOOKING_MIGRATIONS = PROJECT_ROOT / "services" / "booking" / "migrations"


async def projections(run: Run, options: Options, log_dir: Path) -> Outcome:
    """A backlog on a fresh booking.events topic: drained raw, then caught up on by the projections."""
    events = await backlog(options.backlog, run.run_id, run.secret, run.now)
    async with provisioned(run.stage("projections")) as stage:
        topic = stage.settings.topic(BOOKING_EVENTS)
        await publish(run.kafka_bootstrap, topic, events)
        drained = await raw_drain(run.kafka_bootstrap, topic, BOOKING_SPEC.partitions, run.meter())
        caught = await catch_up(run, stage, len(events), log_dir / "projections.log")
    return Outcome(
        [drained, *caught.rows],
        {
            "backlog": len(events),
            "projections_applied": caught.applied,
            "projections_diary_rows": caught.diary_rows,
            "projections_timed_out": caught.timed_out,
        },
    )


async def big_store(run: Run, plan: Plan, options: Options, log_dir: Path) -> Outcome:
    """The same bookings as the path phase, on a booking store that already holds a long history."""
    async with provisioned(run.stage("big-store")) as stage:
        url = stage.settings.database_url("booking")
        pool = await open_pool(url, [COMMON_MIGRATIONS, BOOKING_MIGRATIONS])
        await pool.close()
        stations = [s.id for s in load_county().appointment_stations()]
        loaded = await preload(url, options.store_events, plan.events, stations, local_date(run.now))
        log_path = log_dir / "booking-big-store.log"
        async with running_booking(run, stage, plan, options, log_path) as session:
            label = f"path ({loaded.events:,} in store)"
            keys = PathKeys("big_store", label, BIG_STORE_HTTP, BIG_STORE_TO_KAFKA, BIG_STORE_END_TO_END)
            found = await path(run, stage, session, plan, options, keys)
    found.parameters |= {
        "store_events": loaded.events,
        "store_streams": loaded.streams,
        "store_copy_seconds": loaded.copy_seconds,
        "store_settle_seconds": loaded.settle_seconds,
    }
    return found


async def cluster(run: Run, plan: Plan, options: Options, log_dir: Path) -> Outcome:
    """The path phase's bookings again, with Kafka as three nodes: replication 3, min.insync 2.

    The cluster is the run's own (``tests.support.cluster``, as `appointments up --brokers 3`
    starts it), on this same machine and its two cores; its three nodes' CPU is not metered.
    """
    with kafka_cluster(NODES, first_port=23092) as (bootstrap, _):
        on_cluster = dataclasses.replace(
            run, kafka_bootstrap=bootstrap, servers=cpu.Servers(None, run.servers.postgres_pid)
        )
        async with provisioned(on_cluster.stage("cluster")) as stage:
            log_path = log_dir / "booking-cluster.log"
            async with running_booking(on_cluster, stage, plan, options, log_path) as session:
                label = f"path ({NODES} brokers)"
                keys = PathKeys("cluster", label, CLUSTER_HTTP, CLUSTER_TO_KAFKA, CLUSTER_END_TO_END)
                found = await path(on_cluster, stage, session, plan, options, keys)
    found.parameters |= {"cluster_nodes": NODES, "cluster_bootstrap": bootstrap}
    return found
