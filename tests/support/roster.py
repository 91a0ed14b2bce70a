"""Put officers on duty for integration tests, as the roster service would: DutyAssigned on Kafka."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker

from schemas.base import DomainEvent
from schemas.roster import DutyAssigned, DutyEnded, DutyEndReason, OfficerWithdrawn, WithdrawalReason
from services.common import kafka
from services.common.commands import Metadata, outgoing
from services.common.config import Settings
from services.common.reference import load_county

# Stations the blanket roster leaves alone, for tests that set their own officers.
OWN_ROSTER = ("borehamwood", "cheshunt")
SPAN = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 8, 1, tzinfo=UTC))


def _id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


async def publish(settings: Settings, events: list[DomainEvent]) -> None:
    """Publish roster events the way the roster service's relay does (envelope, key, headers)."""
    broker: KafkaBroker = kafka.make_broker(settings.kafka_bootstrap, "test-roster")
    await broker.start()
    try:
        send = kafka.publisher(broker, settings.topic_prefix)
        meta = Metadata(correlation_id=str(uuid.uuid4()), actor="supervisor:test", now=datetime.now(UTC))
        for event in events:
            out = outgoing(
                event, f"officer:{event.stream_key()}", "urn:herts-police:station-appointments:roster", meta
            )
            await send(out.topic, out.key.encode(), out.envelope.kafka_value(), out.envelope.kafka_headers())
    finally:
        await broker.stop()


def duty(
    officer_id: str, *, station: str | None, district: str, starts_at: datetime, ends_at: datetime
) -> DutyAssigned:
    """An appointment duty at a station, or a diary-car duty for a district when station is None."""
    return DutyAssigned(
        officer_id=officer_id,
        duty_id=_id("duty", officer_id, starts_at.isoformat()),
        duty="appointments" if station else "diary-car",
        station_id=station,
        district_id=district,
        starts_at=starts_at,
        ends_at=ends_at,
        assigned_at=datetime.now(UTC),
    )


def withdrawal(
    officer_id: str, starts_at: datetime, ends_at: datetime, reason: WithdrawalReason = "court"
) -> OfficerWithdrawn:
    """An officer withdrawn from appointment duty for a span."""
    return OfficerWithdrawn(
        officer_id=officer_id,
        withdrawal_id=_id("withdrawal", officer_id, starts_at.isoformat()),
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        withdrawn_at=datetime.now(UTC),
    )


def duty_ended(
    assigned: DutyAssigned, ends_at: datetime, reason: DutyEndReason = "major-incident"
) -> DutyEnded:
    """A duty ended early, at ``ends_at``."""
    return DutyEnded(
        officer_id=assigned.officer_id,
        duty_id=assigned.duty_id,
        ends_at=ends_at,
        early=True,
        reason=reason,
        ended_at=datetime.now(UTC),
        duty=assigned.duty,
        station_id=assigned.station_id,
        district_id=assigned.district_id,
        starts_at=assigned.starts_at,
    )


def county_roster() -> list[DomainEvent]:
    """One officer on appointment duty at every station (but OWN_ROSTER) and on every diary car."""
    county = load_county()
    events: list[DomainEvent] = [
        duty(f"officer-{s.id}", station=s.id, district=s.district, starts_at=SPAN[0], ends_at=SPAN[1])
        for s in county.appointment_stations()
        if s.id not in OWN_ROSTER
    ]
    events += [
        duty(f"officer-{d.id}-car", station=None, district=d.id, starts_at=SPAN[0], ends_at=SPAN[1])
        for d in county.districts
    ]
    return events
