"""A request's own stream: refused once; a stream an earlier version began as received still folds."""

from __future__ import annotations

from schemas.booking import AppointmentRequested, RequestRefused, Slot
from services.booking.domain.errors import EmergencyResponse, SlotTaken
from services.booking.domain.requests import (
    RefuseRequest,
    Request,
    decide,
    fold,
    initial_state,
    refusal_of,
)
from tests.unit.booking.builders import MONDAY, NOW, at, book_station


def given(*history: RefuseRequest, received: bool = False) -> Request:
    """Request req-1 after these commands were decided and their events applied, in order."""
    state = fold(initial_state("req-1"), [requested()] if received else [])
    for command in history:
        state = fold(state, decide(command, state))
    return state


def requested() -> AppointmentRequested:
    """The request to book Cheshunt at 5pm on Monday, as an earlier version recorded it."""
    booking = book_station("apt-1", 17)
    return AppointmentRequested(
        appointment_id="apt-1", diary="request:req-1", request_id="req-1", place="station",
        place_id="cheshunt", day=booking.day, incident_grade=booking.incident_grade, caller=booking.caller,
        briefing=booking.briefing, requested_at=NOW,
    )  # fmt: skip


def refuse() -> RefuseRequest:
    """The request is refused: an urgent incident goes to emergency response."""
    return refusal_of("apt-1", EmergencyResponse("urgent"), NOW)


class TestGivenARequestIdNotUsedYet:
    def test_refusing_it_records_the_field_and_the_reason(self) -> None:
        events = decide(refuse(), given())

        assert len(events) == 1
        refused = events[0]
        assert isinstance(refused, RequestRefused)
        assert (refused.diary, refused.request_id) == ("request:req-1", "req-1")
        assert (refused.code, refused.field) == ("emergency-response", "incident_grade")

    def test_a_lost_race_brings_its_nearest_free_slots_with_the_refusal(self) -> None:
        six = Slot(place="station", place_id="cheshunt", starts_at=at(MONDAY, 18), ends_at=at(MONDAY, 19))

        refused = decide(refusal_of("apt-1", SlotTaken("fully booked at 5pm", [six]), NOW), given())[0]

        assert isinstance(refused, RequestRefused)
        assert (refused.code, refused.alternatives) == ("slot-taken", (six,))


class TestGivenARequestRecordedAsReceivedByAnEarlierVersion:
    def test_refusing_it_records_the_refusal_once(self) -> None:
        state = given(refuse(), received=True)

        assert state.refusal is not None and state.refusal.reason == refuse().reason
        assert decide(refuse(), state) == []


class TestGivenARefusedRequest:
    def test_refusing_it_again_records_nothing(self) -> None:
        assert decide(refuse(), given(refuse())) == []

    def test_the_state_keeps_the_refusal_as_recorded(self) -> None:
        state = given(refuse())

        assert state.refusal is not None
        assert state.refusal.reason == refuse().reason
