"""What each row of a run measured, in words, for the table's caption."""

from __future__ import annotations

from typing import Any

from bench import figures as f
from bench.baselines import PRODUCE_WARM_SECONDS
from bench.freeslots import BLOCK, DAYS
from bench.phases import BOOKING_SPEC
from bench.report import Report
from bench.sms import describe as _sms
from bench.sms import ratios as sms_ratios


def _bytes(value: Any) -> str:
    return "?" if value is None else f"{value:,.0f} B"


def _produce(p: dict[str, Any]) -> str:
    return (
        "A: AIOKafkaProducer(enable_idempotence=True, acks='all'), default linger, send_and_wait to "
        f"a {BOOKING_SPEC.partitions}-partition topic; SlotBooked values "
        f"{_bytes(p.get('baseline_value_bytes'))} + CloudEvents headers "
        f"{_bytes(p.get('baseline_header_bytes'))}, keyed by appointment ids."
    )


def _append(p: dict[str, Any]) -> str:
    return (
        "B: services.common.eventstore.append_streams called directly at the stream's known tip "
        "(events row + outbox row + NOTIFY in one statement), one transaction per booking, on the "
        "path's diary-day streams; "
        f"{p.get('store_conflicts_retried')} conflicts retried."
    )


def _path(p: dict[str, Any]) -> str:
    return (
        "path: `python -m services.booking` as a subprocess with its default worker count "
        f"({p.get('path_workers')} workers, {p.get('path_service_processes')} processes in its "
        "tree), seeded with the county and, "
        "through roster.events, an officer on duty per planned station day; POST "
        "/stations/{id}/appointments with a call-taker token. 201→Kafka runs from the 201 until "
        "this process read the booking.events record keyed by its appointment id (values "
        f"{_bytes(p.get('path_value_bytes'))}, headers {_bytes(p.get('path_header_bytes'))}); "
        "POST→Kafka is end to end, and its rate is the path's."
    )


def _free_slots(p: dict[str, Any]) -> str:
    sizes = " and ".join(str(n) for n in p.get("free_slots_offered", {}).values())
    return (
        f"free slots: GET /stations/{p.get('free_slots_station')}/free-slots from "
        f"D={p.get('free_slots_from')} to D and to D+{DAYS - 1}, one request at a time, the two "
        f"kinds alternating in blocks of {BLOCK}, on the path's running service (every day on "
        f"duty, half its slots booked by the path if it ran); answers of {sizes} slots."
    )


def _projections(p: dict[str, Any]) -> str:
    return (
        f"projections: {p.get('backlog', 0):,} SlotBooked records with CloudEvents headers on a "
        "fresh booking.events topic. Raw drain: AIOKafkaConsumer assign + seek_to_beginning + "
        "getmany to the end offsets, its start included, after one unmeasured drain. Catch-up: "
        "`python -m services.projections` on a fresh database, from its start (interpreter, "
        "migrations, group join) until its consumer_offsets for the topic sum to the backlog; "
        f"{p.get('projections_applied', 0):,} applied, {p.get('projections_diary_rows')} diary "
        "rows. 'From first applied' leaves the start-up out."
    )


def _big_store(p: dict[str, Any]) -> str:
    return (
        f"big store: {p.get('store_events', 0):,} events over {p.get('store_streams', 0):,} past "
        "diary-day streams (copies of this run's SlotBooked, outbox rows published) COPYed into "
        f"a fresh booking store in {p.get('store_copy_seconds', 0):.0f} s, then VACUUM ANALYZE "
        f"and CHECKPOINT ({p.get('store_settle_seconds', 0):.0f} s), before the service started; "
        "then the same bookings as the path phase."
    )


def _replay(p: dict[str, Any]) -> str:
    return (
        f"replay: {p.get('replay_backlog', 0):,} SlotBooked records on a fresh booking.events topic of "
        "a stage of its own, drained raw (assign, seek_to_beginning, getmany to the end offsets, after "
        "one unmeasured drain), caught up on by `python -m services.projections` "
        "(then stopped), then `appointments replay`'s Replay of every model run in this process from "
        "its start (shadow schema, Kafka consumer) to its swap (indexes built, positions checked), its "
        "client CPU this process and its forked workers "
        f"({p.get('replay_worker_cpu_seconds', 0):.1f} s of it in the workers); "
        f"{p.get('replay_records', 0):,} records, outcomes {p.get('replay_outcomes')}, live appliers held "
        f"{p.get('replay_swap_ms', 0):.0f} ms by the swap."
    )


def _cluster(p: dict[str, Any]) -> str:
    return (
        f"cluster: the path phase's bookings again, with Kafka as {p.get('cluster_nodes', 3)} KRaft nodes of "
        "the run's own on this machine (as `appointments up --brokers 3` starts them: topics with "
        "three replicas, min.insync.replicas 2, the relay's producer idempotent with acks=all); "
        "the nodes' CPU is not metered."
    )


_PHASES = (
    (f.RAW_PRODUCE, _produce),
    (f.RAW_APPEND, _append),
    (f.PATH_END_TO_END, _path),
    (f.FREE_SLOTS_DAY, _free_slots),
    (f.RAW_DRAIN, _projections),
    (f.BIG_STORE_END_TO_END, _big_store),
    (f.CLUSTER_END_TO_END, _cluster),
    (f.SMS_OUTBOUND_ROW, _sms),
)


def notes(report: Report) -> list[str]:
    """One line per phase that ran, then how CPU is counted, then anything that went wrong."""
    p = report.parameters
    ran = {r.key for r in report.rows}
    c = p["concurrency"]
    lines = [
        f"Concurrency {c} for A, B and the path: {c} workers, each awaiting its call "
        f"(send_and_wait, a committed transaction, a 201) before taking the next. Warm-up: "
        f"{p['warmup']} of each first; A repeats its warm-up for {PRODUCE_WARM_SECONDS:.0f} s, "
        "so a freshly started broker is past its JIT."
    ]
    lines += [describe(p) for key, describe in _PHASES if key in ran]
    lines += [
        "CPU: client = this process (getrusage); service = the service subprocess and every "
        "process under it (/proc, before and after); Kafka+PG = the broker and the postmaster "
        "with all its backends (anything else using them counts). Per item: per booking, "
        "request or record.",
        "path ÷ this = the path's end-to-end bookings/s over the baseline's.",
    ]
    cluster = report.cluster_over_path()
    if cluster is not None:
        lines.append(f"path on three Kafka nodes ÷ on one broker, bookings/s: {cluster:.2f}x.")
    return lines + sms_ratios(report) + _run_notes(p)


def _run_notes(p: dict[str, Any]) -> list[str]:
    times = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in p.get("phase_seconds", {}).items())
    lines = [f"Phase times: {times}."] if times else []
    lines += [f"Phase {name} failed: {why}" for name, why in p.get("failed_phases", {}).items()]
    for name in ("path", "big_store", "cluster"):
        if p.get(f"{name}_failures"):
            lines.append(f"{name} failures: {p[f'{name}_failures']}")
        if p.get(f"{name}_missing_on_kafka"):
            lines.append(f"{name}: {p[f'{name}_missing_on_kafka']} booked events never reached Kafka.")
    if p.get("projections_timed_out"):
        lines.append("The projections did not apply the whole backlog in time: rate = what they did.")
    if not p.get("servers_cpu_measured"):
        lines.append("Kafka+PG CPU not measured: the servers are not processes we may read.")
    return lines
