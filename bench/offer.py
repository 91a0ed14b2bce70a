"""Making a fresh booking service offer the run's slots: the county, the duties, and waiting for both."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.client import Answer, Client
from bench.service import check_alive
from bench.stage import fresh_topic_retries_quiet
from bench.workers import NEW_CONNECTION
from bench.workload import PlannedSlot
from services.common.eventstore import Outgoing
from services.common.reference import load_county

# How long the service's roster consumer may take to turn the run's duties into free slots.
OFFERED_SECONDS = 90.0
# The free-slots endpoint answers at most 62 days at a time.
OFFER_WINDOW_DAYS = 60


async def seed_county(client: Client, admin_token: str) -> Answer:
    """PUT the county's reference data, as `appointments seed` does, on a new connection.

    A worker that already holds it answers 200 all the same, and holds it from then on.
    """
    return await client.put(
        "/reference/county",
        content=load_county().model_dump_json(),
        headers={
            "authorization": f"Bearer {admin_token}",
            "content-type": "application/json",
            **NEW_CONNECTION,
        },
    )


async def publish(bootstrap: str, topic: str, items: Sequence[Outgoing]) -> None:
    """Publish envelopes as a service's relay would (key, value, CloudEvents headers); wait for every ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    try:
        with fresh_topic_retries_quiet():
            acks = [
                await producer.send(
                    topic, i.envelope.kafka_value(), key=i.key.encode(), headers=i.envelope.kafka_headers()
                )
                for i in items
            ]
            await asyncio.gather(*acks)
    finally:
        await producer.stop()


def windows(days: Sequence[date]) -> list[tuple[date, date]]:
    """The days as few from/to ranges as the free-slots endpoint allows."""
    spans: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if spans and (day - spans[-1][0]).days < OFFER_WINDOW_DAYS:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


async def offered(client: Client, plan: Sequence[PlannedSlot]) -> set[tuple[str, datetime]]:
    """Every (station, start) that GET /stations/{id}/free-slots offers over the plan's days."""
    days: dict[str, list[date]] = {}
    for slot in plan:
        days.setdefault(slot.station_id, []).append(slot.day)
    found: set[tuple[str, datetime]] = set()
    for station_id, station_days in days.items():
        for first, last in windows(station_days):
            span = {"from": first.isoformat(), "to": last.isoformat()}
            response = await client.get(f"/stations/{station_id}/free-slots", params=span)
            if response.status_code != 200:
                raise RuntimeError(f"free slots of {station_id}: {response.status_code} {response.text}")
            found |= {(station_id, datetime.fromisoformat(s["starts_at"])) for s in response.json()}
    return found


def not_offered(plan: Sequence[PlannedSlot], offer: set[tuple[str, datetime]]) -> list[PlannedSlot]:
    """The planned slots the service does not offer."""
    return [s for s in plan if (s.station_id, s.starts_at) not in offer]


async def wait_until_offered(
    client: Client, process: subprocess.Popen[bytes], plan: Sequence[PlannedSlot], log_path: Path
) -> None:
    """Wait until the service offers every planned slot (its roster consumer has the duties)."""
    deadline = time.monotonic() + OFFERED_SECONDS
    while True:
        missing = not_offered(plan, await offered(client, plan))
        if not missing:
            return
        check_alive(process, log_path)
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"after {OFFERED_SECONDS:.0f} s the service still does not offer {len(missing)} of the "
                f"{len(plan)} planned slots, e.g. {missing[0].stream_id} at {missing[0].starts_at:%H:%M}Z"
            )
        await asyncio.sleep(0.5)
