"""A request's own stream: recorded once as received, refused once, and never reused."""

from __future__ import annotations

import pytest

from schemas.booking import AppointmentRequested, RequestRefused, Slot
from services.booking.domain.errors import EmergencyResponse, RequestReused, SlotTaken
from services.booking.domain.requests import (
    RecordRequest,
    RefuseRequest,
    Request,
    RequestCommand,
    decide,
    fold,
    initial_state,
    refusal_of,
)
from tests.unit.booking.builders import MONDAY, NOW, at, book_station, book_visit


def given(*history: RequestCommand) -> Request:
    """Request req-1 after these commands were decided and their events applied, in order."""
    state = initial_state("req-1")
    for command in history:
        state = fold(state, decide(command, state))
    return state


def record() -> RecordRequest:
    """The request to book Cheshunt at 5pm on Monday, as it reached booking."""
    return RecordRequest(booking=book_station("apt-1", 17))


def refuse() -> RefuseRequest:
    """The request is refused: an urgent incident goes to emergency response."""
    return refusal_of("apt-1", EmergencyResponse("urgent"), NOW)


class TestGivenARequestIdNotUsedYet:
    def test_recording_the_request_records_it_as_received(self) -> None:
        events = decide(record(), given())

        assert len(events) == 1
        received = events[0]
        assert isinstance(received, AppointmentRequested)
        assert (received.diary, received.request_id) == ("request:req-1", "req-1")
        assert (received.place, received.place_id) == ("station", "cheshunt")
        assert received.appointment_id == "apt-1"

    def test_refusing_it_records_the_field_and_the_reason(self) -> None:
        events = decide(refuse(), given())

        assert len(events) == 1
        refused = events[0]
        assert isinstance(refused, RequestRefused)
        assert (refused.code, refused.field) == ("emergency-response", "incident_grade")

    def test_a_lost_race_brings_its_nearest_free_slots_with_the_refusal(self) -> None:
        six = Slot(place="station", place_id="cheshunt", starts_at=at(MONDAY, 18), ends_at=at(MONDAY, 19))

        refused = decide(refusal_of("apt-1", SlotTaken("fully booked at 5pm", [six]), NOW), given())[0]

        assert isinstance(refused, RequestRefused)
        assert (refused.code, refused.alternatives) == ("slot-taken", (six,))


class TestGivenARequestAlreadyRecorded:
    def test_the_same_request_again_records_nothing(self) -> None:
        assert decide(record(), given(record())) == []

    def test_a_different_booking_under_the_same_id_is_refused_as_reused(self) -> None:
        elsewhere = RecordRequest(booking=book_visit("apt-1"))

        with pytest.raises(RequestReused) as reused:
            decide(elsewhere, given(record()))

        assert reused.value.field == "request_id"
        assert "req-1" in reused.value.reason

    def test_another_case_under_the_same_id_is_refused_as_reused(self) -> None:
        booking = book_station("apt-1", 17)
        other_case = booking.briefing.model_copy(update={"case_reference": "41/99999/26"})
        another = RecordRequest(booking=booking.model_copy(update={"briefing": other_case}))

        with pytest.raises(RequestReused):
            decide(another, given(record()))


class TestGivenARefusedRequest:
    def test_refusing_it_again_records_nothing(self) -> None:
        assert decide(refuse(), given(refuse())) == []

    def test_the_state_keeps_the_refusal_as_recorded(self) -> None:
        state = given(record(), refuse())

        assert state.received is not None and state.refusal is not None
        assert state.refusal.reason == refuse().reason
