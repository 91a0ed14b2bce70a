"""Issue 9's phase: booking events to queued texts, and the gateway's sends to the Notify simulator.

On a stage of its own, in three steps, each on real processes:

1. **queued**: ``python -m services.notifications`` (no Notify key, so no gateway) hears a
   burst of the run's SlotBooked records on booking.events, sealed in the stage's key store
   as booking seals them, so the service opens each number as it does in production. Timed
   from the first record put on the topic until every text is ``SmsQueued`` on
   notifications.events, and until every ``SmsToSend`` is on sms-outbound.
2. **adapter**: those very texts sent through the gateway's adapter (``NotifyGateway``, the
   official Notify client in worker threads, its rate limiter and retries) from this process
   to ``python -m services.notifications.gateway.simulator``, ``concurrency`` in flight.
3. **gateway**: the service started again with the simulator's key, so its gateway consumer
   (one record at a time, as it runs in production) sends the backlog on sms-outbound.
   Timed from the first text its ``notify_texts_sent_total`` counts to the last.

Quiet hours are off and the day-before reminder too, so every text is due at once and the
figures count booked texts only. Rates go beside baseline A's in the notes; no target.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.figures import (
    GATEWAY_ADAPTER,
    GATEWAY_SERVICE,
    RAW_PRODUCE,
    SMS_OUTBOUND_ROW,
    SMS_QUEUED,
    Latency,
    Row,
    ratio,
)
from bench.forms import slot_booked
from bench.load import Meter, drive
from bench.offer import publish
from bench.options import Options
from bench.phases import Outcome
from bench.plan import Plan
from bench.report import Report
from bench.service import check_alive, free_port, service_process
from bench.stage import Run, Stage, provisioned
from schemas.topics import BOOKING_EVENTS, NOTIFICATIONS_EVENTS, SMS_OUTBOUND, TOPICS
from services.common.db import drop_database, open_pool
from services.common.eventstore import Outgoing
from services.common.shredding import KEYSTORE_DATABASE, KEYSTORE_MIGRATIONS, PgKeyStore
from services.notifications.gateway.local import SIMULATOR_MODULE
from services.notifications.gateway.notify import NotifyGateway, Sms

READY_SECONDS = 90.0
POLL_SECONDS = 0.05
# However slow the service is, the run ends: after this long, or at this many texts a
# second if that takes longer; the rows then say what was done by then.
WAIT_SECONDS = 300.0
SLOWEST_RATE = 5.0
# Every text due at once: quiet hours never, no reminder the day before (tomorrow's slots
# would give reminders due now, and the figures would count them as well).
SERVICE_ENV = {
    "APPOINTMENTS_NOTIFY_QUIET_STARTS": "00:00",
    "APPOINTMENTS_NOTIFY_QUIET_ENDS": "00:00",
    "APPOINTMENTS_NOTIFY_REMINDER_DAY_BEFORE": "false",
    "APPOINTMENTS_LOG_JSON": "true",
}
_SENT = re.compile(r"^notify_texts_sent_total\s+([0-9.e+]+)\s*$", re.MULTILINE)


@dataclass
class Arrivals:
    """Records of the watched topics as this process reads them: when each type's nth one arrived."""

    times: dict[str, list[float]] = field(default_factory=dict)
    texts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, event_type: str, value: bytes, at: float) -> None:
        """One record read at ``at`` (perf_counter); the texts for the gateway are kept whole."""
        self.times.setdefault(event_type, []).append(at)
        if event_type == "SmsToSend":
            self.texts.append(json.loads(value))

    def count(self, event_type: str) -> int:
        """How many of this type have arrived."""
        return len(self.times.get(event_type, []))

    def reached(self, event_type: str, n: int) -> float | None:
        """When the ``n``th record of this type arrived (None: not yet)."""
        seen = self.times.get(event_type, [])
        return seen[n - 1] if 0 < n <= len(seen) else None


def _type_of(headers: Sequence[tuple[str, bytes]]) -> str:
    return next((bytes(v).decode() for k, v in headers if k == "ce_type"), "")


@contextlib.asynccontextmanager
async def watching(bootstrap: str, topics: Sequence[str]) -> AsyncIterator[Arrivals]:
    """Read ``topics`` from their beginning into an ``Arrivals`` until the block ends."""
    arrivals = Arrivals()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = {t.name: t.partitions for t in TOPICS}
    tps = [TopicPartition(topic, p) for topic in topics for p in range(partitions[_contract_name(topic)])]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)

    async def read() -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            at = time.perf_counter()
            for records in batch.values():
                for record in records:
                    arrivals.add(_type_of(record.headers), record.value or b"", at)

    task = asyncio.create_task(read(), name="bench-sms-watch")
    try:
        yield arrivals
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


def _contract_name(topic: str) -> str:
    return next(t.name for t in TOPICS if topic.endswith(t.name))


async def sealed_bookings(stage: Stage, plan: Plan, run: Run) -> list[Outgoing]:
    """The plan's SlotBooked (warm-up first), each caller sealed in the stage's key store as booking does."""
    url = stage.settings.database_url(KEYSTORE_DATABASE)
    pool = await open_pool(url, [KEYSTORE_MIGRATIONS], max_size=2, login=None)
    try:
        keys = PgKeyStore(pool)
        return [
            await slot_booked(slot, form, run.secret, run.now, plan.roster[slot.stream_id].on_duty(), keys)
            for slot, form in (*plan.warm, *plan.measured)
        ]
    finally:
        await pool.close()


def _deadline(total: int) -> float:
    return time.monotonic() + max(WAIT_SECONDS, total / SLOWEST_RATE)


async def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until ``url``/health answers 200 (the service exiting first is an error with its log)."""
    deadline = time.monotonic() + READY_SECONDS
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            check_alive(process, log_path)
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{log_path.stem} not healthy after {READY_SECONDS:.0f} s")


async def until_arrived(
    arrivals: Arrivals,
    wanted: dict[str, int],
    process: subprocess.Popen[bytes],
    log_path: Path,
    deadline: float,
) -> bool:
    """Until each type has its count of records (True), or the deadline passed (False)."""
    while any(arrivals.count(t) < n for t, n in wanted.items()):
        check_alive(process, log_path)
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True


@dataclass(frozen=True)
class Queued:
    """Step 1's rows, and the texts it put on sms-outbound (warm-up first)."""

    rows: list[Row]
    texts: list[dict[str, Any]]
    timed_out: bool


async def queued(
    run: Run, stage: Stage, process: subprocess.Popen[bytes], log_path: Path, events: Sequence[Outgoing],
    warmup: int,
) -> Queued:  # fmt: skip
    """Step 1: the running service, without a gateway, turns a burst of bookings into texts for it."""
    cfg = stage.settings
    topics = [cfg.topic(NOTIFICATIONS_EVENTS), cfg.topic(SMS_OUTBOUND)]
    measured = events[warmup:]
    total = len(events)
    async with watching(cfg.kafka_bootstrap, topics) as arrivals:
        booking_events = cfg.topic(BOOKING_EVENTS)
        await publish(cfg.kafka_bootstrap, booking_events, events[:warmup])
        both = {"SmsQueued": warmup, "SmsToSend": warmup}
        if not await until_arrived(arrivals, both, process, log_path, _deadline(warmup)):
            raise RuntimeError(f"the warm-up's {warmup} texts were not all queued in time")
        meter = run.meter(process.pid)
        start = meter.sample()
        await publish(cfg.kafka_bootstrap, booking_events, measured)
        both = {"SmsQueued": total, "SmsToSend": total}
        done = await until_arrived(arrivals, both, process, log_path, _deadline(len(measured)))
        usage = Meter.between(start, meter.sample())
        texts = list(arrivals.texts)
    on_queue = _burst_row(SMS_QUEUED, "booking events → SmsQueued", arrivals, "SmsQueued", warmup, start.wall)
    outbound = _burst_row(
        SMS_OUTBOUND_ROW, "booking events → on sms-outbound", arrivals, "SmsToSend", warmup, start.wall
    )
    # The service's CPU over the whole window, which ends once both are all there.
    outbound = Row(
        outbound.key, outbound.label, outbound.count, outbound.wall_seconds, None,
        usage.client_cpu, usage.service_cpu, usage.server_cpu,
    )  # fmt: skip
    return Queued([on_queue, outbound], texts, not done)


def _burst_row(key: str, label: str, arrivals: Arrivals, event_type: str, warmup: int, start: float) -> Row:
    """A rate row: the records of a type past the warm-up, from ``start`` to the last one's arrival."""
    count = arrivals.count(event_type) - warmup
    last = arrivals.reached(event_type, warmup + count)
    return Row(key, label, max(count, 0), None if last is None else last - start, None)


def _sms(text: dict[str, Any]) -> Sms:
    return Sms(text["phone_number"], text["template_id"], dict(text["personalisation"]), text["reference"])


async def adapter(
    run: Run,
    simulator: subprocess.Popen[bytes],
    simulator_url: str,
    api_key: str,
    texts: Sequence[dict[str, Any]],
    warmup: int,
    concurrency: int,
) -> Row:
    """Step 2: the gateway's adapter sends the texts to the simulator, ``concurrency`` in flight."""
    gateway = NotifyGateway(api_key, simulator_url)
    sent: list[str] = []

    async def send(sms: Sms) -> None:
        sent.append(await gateway.send(sms))

    smses = [_sms(t) for t in texts]
    await drive(smses[:warmup], concurrency, send)
    meter = run.meter(simulator.pid)
    start = meter.sample()
    latencies = await drive(smses[warmup:], concurrency, send)
    usage = Meter.between(start, meter.sample())
    return Row(
        GATEWAY_ADAPTER, f"gateway adapter → simulator ({concurrency} in flight)", len(latencies),
        usage.wall, Latency.of(latencies) if latencies else None,
        usage.client_cpu, usage.service_cpu, usage.server_cpu,
    )  # fmt: skip


async def sent_total(client: httpx.AsyncClient) -> int:
    """The service's ``notify_texts_sent_total`` (0 before its first text)."""
    with contextlib.suppress(httpx.HTTPError):
        found = _SENT.search((await client.get("/metrics")).text)
        if found:
            return int(float(found.group(1)))
    return 0


async def gateway_consumer(run: Run, total: int, env: dict[str, str], log_path: Path) -> tuple[Row, bool]:
    """Step 3: the service with the simulator's key sends the backlog on sms-outbound, one at a time."""
    url = f"http://127.0.0.1:{env['APPOINTMENTS_NOTIFICATIONS_PORT']}"
    with service_process("services.notifications", env, log_path) as process:
        await wait_healthy(url, process, log_path)
        meter = run.meter(process.pid)
        deadline = _deadline(total)
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            first = None
            sent = 0
            while sent < total and time.monotonic() < deadline:
                check_alive(process, log_path)
                sent = await sent_total(client)
                if sent and first is None:
                    first = (meter.sample(), sent)
                if sent < total:
                    await asyncio.sleep(POLL_SECONDS)
            end = meter.sample()
    if first is None:
        raise RuntimeError("the service's gateway sent nothing in time")
    usage = Meter.between(first[0], end)
    row = Row(
        GATEWAY_SERVICE, "gateway consumer in the service → simulator", sent - first[1], usage.wall, None,
        usage.client_cpu, usage.service_cpu, usage.server_cpu,
    )  # fmt: skip
    return row, sent < total


async def sms(run: Run, plan: Plan, options: Options, log_dir: Path) -> Outcome:
    """Issue 9's phase on a stage of its own: texts queued, then sent by the adapter and by the gateway."""
    async with provisioned(run.stage("sms")) as stage:
        try:
            return await _measure(run, stage, plan, options, log_dir)
        finally:
            with contextlib.suppress(Exception):
                await drop_database(stage.settings.database_url("notifications"))


async def _measure(run: Run, stage: Stage, plan: Plan, options: Options, log_dir: Path) -> Outcome:
    events = await sealed_bookings(stage, plan, run)
    port, simulator_port = free_port(), free_port()
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    api_key = f"bench_simulator-{uuid.uuid4()}-{uuid.uuid4()}"
    service_env = stage.env("notifications", port) | SERVICE_ENV
    simulator_env = {
        **service_env,
        "APPOINTMENTS_NOTIFY_API_KEY": api_key,
        "APPOINTMENTS_SIMULATOR_PORT": str(simulator_port),
        "APPOINTMENTS_SIMULATOR_CALLBACK_URL": f"http://127.0.0.1:{port}",
        "APPOINTMENTS_SIMULATOR_FAILURE_SHARE": "0",
        "APPOINTMENTS_SIMULATOR_DELAY_SECONDS": "0.1",
    }
    w = options.warmup
    simulator_log, service_log = log_dir / "sms-simulator.log", log_dir / "notifications.log"
    with service_process(SIMULATOR_MODULE, simulator_env, simulator_log) as simulator:
        await wait_healthy(simulator_url, simulator, simulator_log)
        # The simulator's receipts call this service back throughout steps 1 and 2.
        with service_process("services.notifications", service_env, service_log) as notifications:
            await wait_healthy(f"http://127.0.0.1:{port}", notifications, service_log)
            step1 = await queued(run, stage, notifications, service_log, events, w)
            sent_by_adapter = await adapter(
                run, simulator, simulator_url, api_key, step1.texts, w, options.concurrency
            )
        gateway_env = service_env | {
            "APPOINTMENTS_NOTIFY_API_KEY": api_key,
            "APPOINTMENTS_NOTIFY_BASE_URL": simulator_url,
        }
        row, gateway_timed_out = await gateway_consumer(
            run, len(step1.texts), gateway_env, log_dir / "notifications-gateway.log"
        )
    return Outcome(
        [*step1.rows, sent_by_adapter, row],
        {
            "sms_events": len(events) - w,
            "sms_texts": len(step1.texts),
            "sms_timed_out": step1.timed_out,
            "sms_gateway_timed_out": gateway_timed_out,
        },
    )


def describe(p: dict[str, Any]) -> str:
    """The phase in words, for the report's notes."""
    return (
        f"sms: {p.get('sms_events', 0):,} SlotBooked records (after the warm-up), callers sealed in the "
        "stage's key store, put on booking.events at once; `python -m services.notifications` (quiet "
        "hours and the day-before reminder off) until every SmsQueued is on notifications.events and "
        "every SmsToSend on sms-outbound, read by this process. Then those texts through "
        "NotifyGateway (Notify's client, aiolimiter at 3,000 a minute, tenacity) to "
        "`python -m services.notifications.gateway.simulator` (delivers after 0.1 s and calls back); "
        "then the service restarted with the simulator's key: its gateway consumer sends all "
        f"{p.get('sms_texts', 0):,} texts on sms-outbound, timed from its first sent "
        "(notify_texts_sent_total) to its last; service CPU there is the service's, for the adapter "
        "the simulator's."
        + (" Not every text was queued in time: the rates are of what was." if p.get("sms_timed_out") else "")
        + (" The gateway did not send every text in time." if p.get("sms_gateway_timed_out") else "")
    )


def ratios(report: Report) -> list[str]:
    """The sms rows' rates beside baseline A's, when both ran."""
    by_key = {r.key: r for r in report.rows}
    raw = by_key.get(RAW_PRODUCE)
    shown = []
    for key in (SMS_QUEUED, SMS_OUTBOUND_ROW, GATEWAY_ADAPTER, GATEWAY_SERVICE):
        row = by_key.get(key)
        found = ratio(row.rate, raw.rate) if row is not None and raw is not None else None
        if row is not None and found is not None:
            shown.append(f"{row.label} {found:.3f}x")
    return [f"sms ÷ A raw produce: {'; '.join(shown)}."] if shown else []
