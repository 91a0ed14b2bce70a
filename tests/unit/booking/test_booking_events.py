"""The published booking events: contract names, keys, round trips, personal data only sealed;
and the control room's request records."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from schemas.base import DomainEvent, latest_events, parse_event, registered_events
from schemas.booking import RequestRefused, SlotBooked
from schemas.personal import Sealed
from schemas.topics import BOOKING_EVENTS
from services.booking.domain.decider import decide
from services.booking.domain.errors import EmergencyResponse, SlotTaken
from services.booking.domain.requests import decide as decide_request
from services.booking.domain.requests import initial_state, refusal_of
from tests.unit.booking.builders import MONDAY, NOW, at, book_station, given, station_day

CONTRACT = {
    "AppointmentRequested",
    "SlotBooked",
    "DiaryCarVisitBooked",
    "AppointmentRescheduled",
    "AppointmentReassigned",
    "AppointmentCancelled",
    "AppointmentAttended",
    "AppointmentMissed",
    "RequestRefused",
}
PERSONAL = {
    "name",
    "phone",
    "address",
    "summary",
    "background",
    "vulnerability",
    "access_needs",
    "note",
    "notes",
}
BOOKING: list[type[DomainEvent]] = sorted(
    (cls for cls in latest_events() if cls.topic == BOOKING_EVENTS),
    key=lambda cls: cls.event_type,
)


def test_every_contract_event_exists_with_every_version_from_1_registered() -> None:
    assert {cls.event_type for cls in BOOKING} >= CONTRACT
    versions = registered_events()
    for cls in BOOKING:
        assert all((cls.event_type, v) in versions for v in range(1, cls.schema_version + 1))


def _personal_fields(model: type[BaseModel]) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if name in PERSONAL:
            found.append((name, annotation))
        for inner in getattr(annotation, "__args__", (annotation,)):
            if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not Sealed:
                found.extend(_personal_fields(inner))
    return found


@pytest.mark.parametrize("event", BOOKING, ids=[cls.event_type for cls in BOOKING])
def test_personal_data_appears_only_sealed(event: type[BaseModel]) -> None:
    for name, annotation in _personal_fields(event):
        assert annotation in (Sealed, Sealed | None), name


def test_a_booked_slot_is_keyed_by_appointment_and_survives_the_wire() -> None:
    booked = decide(book_station("apt-9"), given(station_day()))[0]

    assert isinstance(booked, SlotBooked)
    assert booked.stream_key() == "apt-9"
    data = json.loads(booked.model_dump_json())
    assert data["starts_at"] == "2026-06-15T16:00:00Z"
    assert parse_event("SlotBooked", 1, data) == booked


def test_a_refused_urgent_request_says_it_goes_to_emergency_response() -> None:
    command = book_station("apt-9", grade="urgent")
    with pytest.raises(EmergencyResponse) as refusal:
        decide(command, given(station_day()))

    [event] = decide_request(refusal_of("apt-9", refusal.value, NOW), initial_state("req-1"))

    assert isinstance(event, RequestRefused)
    assert (event.code, event.field, event.diary) == ("emergency-response", "incident_grade", "request:req-1")


def test_a_lost_race_is_refused_with_its_alternatives() -> None:
    state = given(station_day(), book_station("apt-1", 18))
    with pytest.raises(SlotTaken) as refusal:
        decide(book_station("apt-2", 18), state)

    [event] = decide_request(refusal_of("apt-2", refusal.value, NOW), initial_state("req-2"))

    assert isinstance(event, RequestRefused) and event.code == "slot-taken"
    assert [s.starts_at for s in event.alternatives] == [at(MONDAY, 17), at(MONDAY, 19)]
