"""The published contracts: every contract event exists, exports are current, old versions upcast."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from schemas import export
from schemas.base import DomainEvent, UnknownEvent, event, parse_event, registered_events, upcaster
from schemas.envelope import Envelope

CONTRACT_EVENTS = {
    "booking.events": [
        "AppointmentRequested", "SlotBooked", "DiaryCarVisitBooked", "AppointmentRescheduled",
        "AppointmentReassigned", "AppointmentCancelled", "AppointmentAttended", "AppointmentMissed",
        "RequestRefused",
    ],
    "roster.events": ["OfficerRegistered", "DutyAssigned", "OfficerWithdrawn", "DutyEnded"],
    "notifications.events": [
        "SmsQueued", "SmsDelivered", "SmsFailed", "ReplyReceived", "SatisfactionRecorded",
    ],
}  # fmt: skip


def test_every_event_named_in_the_contract_is_a_registered_model_on_its_topic() -> None:
    export.json_schemas()  # imports every event module
    known = {name: model for (name, _), model in registered_events().items()}
    for topic, names in CONTRACT_EVENTS.items():
        for name in names:
            assert name in known, name
            assert known[name].topic == topic


def test_the_committed_json_schemas_match_the_models() -> None:
    wanted = export.json_schemas()
    on_disk = {p.name: p.read_text() for p in export.JSON_DIR.glob("*.json")}
    assert set(on_disk) == set(wanted), "run `python -m schemas.export`"
    for name, schema in wanted.items():
        assert on_disk[name] == export.render(schema), f"{name} is stale: run `python -m schemas.export`"


def test_the_committed_asyncapi_document_matches_the_apps() -> None:
    assert export.ASYNCAPI_FILE.read_text() == export.render(export.asyncapi())
    document = json.loads(export.ASYNCAPI_FILE.read_text())
    assert {c["address"] for c in document["channels"].values()} >= {
        "booking.events", "roster.events", "notifications.events", "deadletter",
        "controlroom.appointment-requests",
    }  # fmt: skip


@event
class ProbeTaken(DomainEvent):
    """A test-only event whose first version said `mins` and whose second says `minutes`."""

    event_type: ClassVar[str] = "ProbeTaken"
    schema_version: ClassVar[int] = 2
    topic: ClassVar[str] = "test.events"
    minutes: int


@upcaster("ProbeTaken", 1)
def _probe_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"minutes": data["mins"]}


def test_an_old_event_version_is_upcast_when_read_never_rewritten() -> None:
    stored = {"mins": 5}
    assert parse_event("ProbeTaken", 1, stored) == ProbeTaken(minutes=5)
    assert stored == {"mins": 5}


def test_an_event_from_the_future_or_of_unknown_type_is_refused() -> None:
    with pytest.raises(UnknownEvent):
        parse_event("ProbeTaken", 3, {"minutes": 1})
    with pytest.raises(UnknownEvent):
        parse_event("NeverHeardOf", 1, {})


def test_the_envelope_round_trips_through_kafka_headers_and_value() -> None:
    envelope = Envelope(
        event_id=uuid.uuid4(), event_type="SlotBooked", schema_version=1,
        source="urn:herts-police:station-appointments:booking", subject="station:hertford:2026-12-02",
        time=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), correlation_id="call-1", causation_id="cause-1",
        actor="call-taker:ct1", data={"appointment_id": "a-1"},
    )  # fmt: skip
    headers = dict(envelope.kafka_headers())
    assert headers["ce_specversion"] == b"1.0" and headers["ce_time"] == b"2026-12-01T09:30:00Z"
    assert Envelope.from_kafka(envelope.kafka_headers(), envelope.kafka_value()) == envelope


def test_a_record_without_cloudevents_headers_is_unreadable() -> None:
    with pytest.raises(ValueError, match="ce_type"):
        Envelope.from_kafka([("ce_id", str(uuid.uuid4()).encode())], b"{}")
