"""Every topic any service consumes: what breaks the contract is put aside, with why, and never applied.

For each consumer of each topic: a record that is not an event at all, an event of a type it
acts on whose data has the wrong shape, the same type at a schema version nobody published,
and a type nobody registered. Each consumer dead-letters every one of those it would have
acted on (a consumer that reads only some types lets the others pass by untouched), names
the problem in the reason without echoing the values, and applies none of them: no service
database records any of their event ids as applied.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from schemas.envelope import Envelope
from schemas.topics import BOOKING_EVENTS, DEADLETTER, NOTIFICATIONS_EVENTS, ROSTER_EVENTS
from services.booking.app.roster_changes import ROSTER_FACTS
from services.booking.app.waitlist.reactor import REACTS_TO
from services.common import kafka
from services.common.config import Settings
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, service

pytestmark = pytest.mark.integration
SECRET_VALUE = "07700 900 461 Alex Poisonous"  # must never be echoed into a dead-letter reason


@dataclass(frozen=True)
class Reader:
    """A consumer as the services define it: its name, topic and the types it acts on (None: all)."""

    name: str
    topic: str
    wants: frozenset[str] | None


READERS = (
    Reader("booking-roster", ROSTER_EVENTS, ROSTER_FACTS),
    Reader("booking-waitlist", BOOKING_EVENTS, REACTS_TO),
    Reader("roster-county", BOOKING_EVENTS, frozenset({"CountyReferenceLoaded"})),
    Reader("projections-booking", BOOKING_EVENTS, None),
    Reader("projections-roster", ROSTER_EVENTS, None),
    Reader("projections-notifications", NOTIFICATIONS_EVENTS, None),
)
# One registered type each consumer acts on, per topic.
TYPES = {
    ROSTER_EVENTS: ["OfficerWithdrawn"],
    BOOKING_EVENTS: ["AppointmentCancelled", "CountyReferenceLoaded"],
    NOTIFICATIONS_EVENTS: ["SmsDelivered"],
}


@dataclass(frozen=True)
class Poison:
    """One record published, and what kind of breach it is."""

    topic: str
    kind: str
    event_id: str
    event_type: str | None
    value: bytes
    headers: list[tuple[str, bytes]]


def _event(topic: str, kind: str, event_type: str, version: int, data: dict[str, object]) -> Poison:
    env = Envelope(
        event_id=uuid.uuid4(), event_type=event_type, schema_version=version, source="urn:test:poison",
        subject=f"poison-{uuid.uuid4().hex[:8]}", time=datetime.now(UTC), correlation_id=str(uuid.uuid4()),
        data=data,
    )  # fmt: skip
    return Poison(topic, kind, str(env.event_id), event_type, env.kafka_value(), env.kafka_headers())


def poisons() -> list[Poison]:
    made: list[Poison] = []
    for topic, types in TYPES.items():
        garbage_id = str(uuid.uuid4())
        made.append(
            Poison(topic, "garbage", garbage_id, None, b"\x00{not an event", [("ce_id", garbage_id.encode())])
        )
        made.append(_event(topic, "unknown type", "NotAnEventOfOurs", 1, {"phone": SECRET_VALUE}))
        for event_type in types:
            made.append(
                _event(topic, "wrong shape", event_type, 1, {"phone": SECRET_VALUE, "nonsense": True})
            )
            made.append(_event(topic, "unknown version", event_type, 99, {"phone": SECRET_VALUE}))
    return made


def acts_on(reader: Reader, poison: Poison) -> bool:
    """Whether ``reader`` must check (and so dead-letter) ``poison``: it is on its topic and not passed by."""
    if reader.topic != poison.topic:
        return False
    return poison.event_type is None or reader.wants is None or poison.event_type in reader.wants


@pytest.fixture
async def roster_service(test_settings: Settings, tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    """A roster process on a database of its own (its county consumer reads booking.events)."""
    roster = await service(
        "roster", tmp_path, APPOINTMENTS_DB_SUFFIX=f"{test_settings.db_suffix}poison"
    ).start()
    yield roster
    roster.stop()


async def _applied(urls: list[str], event_ids: list[str]) -> list[str]:
    found: list[str] = []
    for url in urls:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "select event_id::text as id from applied_events where event_id = any($1::uuid[])",
                [uuid.UUID(e) for e in event_ids],
            )
            found += [f"{url.rsplit('/', 1)[-1]}: {r['id']}" for r in rows]
        finally:
            await conn.close()
    return found


async def test_every_consumer_puts_aside_what_breaks_the_contract_and_applies_none_of_it(
    test_settings: Settings,
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    roster_service: ServiceProcess,
) -> None:
    made = poisons()
    broker = kafka.make_broker(test_settings.kafka_bootstrap, "test-poison-per-topic")
    await broker.start()
    try:
        publish = kafka.publisher(broker, test_settings.topic_prefix)
        for p in made:
            await publish(p.topic, b"poison", p.value, p.headers)
    finally:
        await broker.stop()

    expected = {(r.name, p.event_id) for r in READERS for p in made if acts_on(r, p)}
    dead = await read_topic(
        test_settings.kafka_bootstrap, f"{test_settings.topic_prefix}{DEADLETTER}",
        at_least=len(expected), wait_seconds=90,
    )  # fmt: skip
    ours = {p.event_id: p for p in made}
    got: dict[tuple[str, str], str] = {}
    for record in dead:
        event_id = header(record, "ce_id")
        if event_id in ours:
            got[(header(record, "dlq_consumer") or "", event_id)] = header(record, "dlq_reason") or ""
    assert set(got) == expected, (
        f"missing: {sorted(expected - set(got))}; unexpected: {sorted(set(got) - expected)}"
    )
    for (consumer, event_id), reason in got.items():
        kind = ours[event_id].kind
        assert reason, f"{consumer} gave no reason for the {kind} record"
        assert "Poisonous" not in reason and "900 461" not in reason, f"{consumer} echoed a value: {reason}"
        if kind == "unknown version":
            assert "99" in reason or "version" in reason, reason
        if kind == "unknown type":
            assert "NotAnEventOfOurs" in reason or "type" in reason, reason

    settings_url = test_settings.database_url
    urls = [settings_url("booking"), settings_url("projections")]
    urls.append(
        settings_url("roster").removesuffix(test_settings.db_suffix) + f"{test_settings.db_suffix}poison"
    )
    assert await _applied(urls, list(ours)) == []
