"""What the chaos run asks of the system while its parts die: bookings, control-room requests,
cancellations and withdrawals, each retried as a careful client would, and what was answered.

A booking is retried with its request id until it is answered (a killed worker drops the
connection; a restarting database answers 503): the id makes the retry book once. Only a
201 counts as acknowledged: that is what the checks hold the system to.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.forms import booking_form
from bench.workload import Duty, PlannedSlot, duty_assigned
from schemas.envelope import Envelope, source_of
from schemas.topics import CONTROLROOM_REQUESTS
from services.common import kafka
from services.common.auth import Role
from services.common.commands import Metadata, outgoing
from services.common.config import Settings
from tests.support.roster import withdrawal
from tests.support.services import auth

# How long a client keeps retrying one call through the faults before it gives up on it.
RETRY_SECONDS = 120.0
RETRY_PAUSE = 0.25


@dataclass
class Answers:
    """What the system answered: acknowledged bookings, refusals, cancellations, requests sent."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # request id -> appointment id
    refused: dict[str, int] = field(default_factory=dict)  # request id -> HTTP status
    gave_up: list[str] = field(default_factory=list)
    retries: int = 0
    cancelled: list[str] = field(default_factory=list)
    requests_sent: list[str] = field(default_factory=list)  # control-room request ids
    duplicates_sent: int = 0
    withdrawals: int = 0


async def _retrying(
    client: httpx.AsyncClient, answers: Answers, path: str, body: dict[str, Any]
) -> httpx.Response | None:
    """POST until an answer that is not an outage (connection lost, 502/503/504), or give up."""
    deadline = time.monotonic() + RETRY_SECONDS
    while time.monotonic() < deadline:
        try:
            response = await client.post(path, json=body)
        except httpx.HTTPError:
            response = None
        if response is not None and response.status_code not in (500, 502, 503, 504):
            return response
        answers.retries += 1
        await asyncio.sleep(RETRY_PAUSE)
    return None


async def book_all(
    booking_url: str,
    slots: Sequence[PlannedSlot],
    run_id: str,
    answers: Answers,
    *,
    in_flight: int,
    cancel_every: int,
) -> None:
    """Book every slot over HTTP, ``in_flight`` at a time; cancel every ``cancel_every``th booked."""
    queue: asyncio.Queue[tuple[int, PlannedSlot]] = asyncio.Queue()
    for n, slot in enumerate(slots):
        queue.put_nowait((n, slot))
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(
        base_url=booking_url, headers=auth(Role.CALL_TAKER, "chaos"), timeout=30, limits=limits
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                n, slot = queue.get_nowait()
                form = booking_form(slot, n, f"chaos-{run_id}")
                request_id = form["request_id"]
                response = await _retrying(client, answers, f"/stations/{slot.station_id}/appointments", form)
                if response is None:
                    answers.gave_up.append(request_id)
                elif response.status_code == 201:
                    appointment_id = response.json()["appointment_id"]
                    answers.acknowledged[request_id] = appointment_id
                    if cancel_every and len(answers.acknowledged) % cancel_every == 0:
                        await _cancel(client, answers, appointment_id)
                else:
                    answers.refused[request_id] = response.status_code

        await asyncio.gather(*(worker() for _ in range(in_flight)))


async def _cancel(client: httpx.AsyncClient, answers: Answers, appointment_id: str) -> None:
    body = {"initiated_by": "public", "reason": "no-longer-needed"}
    response = await _retrying(client, answers, f"/appointments/{appointment_id}/cancel", body)
    if response is not None and response.status_code == 200:
        answers.cancelled.append(appointment_id)


def control_room_request(slot: PlannedSlot, n: int, run_id: str) -> dict[str, Any]:
    """A control-room system's request for ``slot``: the call taker's form, its place, its id."""
    form = booking_form(slot, n, f"chaos-cr-{run_id}")
    return {**form, "place": "station", "place_id": slot.station_id}


async def send_requests(
    settings: Settings, slots: Sequence[PlannedSlot], run_id: str, answers: Answers, *, spread_seconds: float
) -> None:
    """Publish a control-room request per slot over ``spread_seconds``, every fifth one twice."""
    broker = kafka.make_broker(settings.kafka_bootstrap, "chaos-control-room")
    await broker.start()
    try:
        publish = kafka.publisher(broker, settings.topic_prefix)
        pause = spread_seconds / max(1, len(slots))
        for n, slot in enumerate(slots):
            request = control_room_request(slot, 100_000 + n, run_id)
            envelope = Envelope(
                event_id=uuid.uuid4(), event_type="AppointmentRequestSubmitted", schema_version=1,
                source="urn:herts-police:control-room:storm", subject=request["request_id"],
                time=datetime.now(UTC), correlation_id=f"incident-{n}", actor="control-room:storm",
                data=request,
            )  # fmt: skip
            copies = 2 if n % 5 == 0 else 1  # a control room that sends again after a timeout
            for _ in range(copies):
                await _publish_through(
                    publish, CONTROLROOM_REQUESTS, request["request_id"].encode(), envelope.kafka_value(),
                    envelope.kafka_headers(),
                )  # fmt: skip
            answers.requests_sent.append(request["request_id"])
            answers.duplicates_sent += copies - 1
            await asyncio.sleep(pause)
    finally:
        await broker.stop()


async def _publish_through(
    publish: Any, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
) -> None:
    """Publish, waiting out a broker's death (the producer is idempotent: a retry is not a copy)."""
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            await publish(topic, key, value, headers)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(RETRY_PAUSE)


async def put_on_duty(settings: Settings, duties: Sequence[Duty]) -> None:
    """The officers' duties, published as the roster service publishes them."""
    now = datetime.now(UTC)
    broker = kafka.make_broker(settings.kafka_bootstrap, "chaos-roster")
    await broker.start()
    try:
        publish = kafka.publisher(broker, settings.topic_prefix)
        for d in duties:
            out = duty_assigned(d, now)
            await publish(
                out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers()
            )
    finally:
        await broker.stop()


async def withdraw(
    settings: Settings, duties: Sequence[Duty], answers: Answers, *, spread_seconds: float
) -> None:
    """Withdraw each duty's officer for its whole span (court), spread over the run."""
    broker = kafka.make_broker(settings.kafka_bootstrap, "chaos-withdrawals")
    await broker.start()
    try:
        publish = kafka.publisher(broker, settings.topic_prefix)
        pause = spread_seconds / max(1, len(duties))
        for d in duties:
            await asyncio.sleep(pause)
            event = withdrawal(d.officer_id, d.starts_at, d.ends_at)
            meta = Metadata(correlation_id=str(uuid.uuid4()), actor="supervisor:chaos", now=datetime.now(UTC))
            out = outgoing(event, f"officer:{d.officer_id}", source_of("roster"), meta)
            await _publish_through(
                publish, out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers()
            )
            answers.withdrawals += 1
    finally:
        await broker.stop()
