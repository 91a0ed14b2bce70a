"""How each of booking's refusals is answered over HTTP: the statuses the contract gives."""

from __future__ import annotations

import inspect

import pytest

from services.booking.adapters.refusals import status_of
from services.booking.domain import errors
from services.booking.domain.errors import (
    BookingRefused,
    ClockChange,
    ClosedDay,
    Conflict,
    EmergencyResponse,
    InThePast,
    NotLiveYet,
    OutsideOpeningHours,
    Refusal,
    RequestReused,
    SlotTaken,
    Unknown,
    UnknownAppointment,
    WrongStatus,
)

# One of each refusal the domain raises, and the status the HTTP contract answers it with.
CONTRACT: list[tuple[BookingRefused, int]] = [
    (BookingRefused("day", "not a date"), 422),
    (Refusal("place_id", "no such station"), 422),
    (EmergencyResponse("urgent"), 422),
    (NotLiveYet("day", "not live until July"), 422),
    (InThePast("start", "5pm has gone"), 422),
    (ClosedDay("day", "closed on Sundays"), 422),
    (OutsideOpeningHours("start", "not a slot"), 422),
    (ClockChange("start", "happens twice"), 422),
    (Unknown("appointment_id", "nothing under apt-9"), 404),
    (UnknownAppointment("apt-9"), 404),
    (Conflict("appointment_id", "the diary forbids it"), 409),
    (SlotTaken("fully booked at 6pm", []), 409),
    (WrongStatus("appointment_id", "appointment apt-1 is attended"), 409),
    (RequestReused("req-1"), 409),
]


@pytest.mark.parametrize("refusal, status", CONTRACT, ids=[type(r).__name__ for r, _ in CONTRACT])
def test_each_refusal_is_answered_with_the_status_the_contract_gives(
    refusal: BookingRefused, status: int
) -> None:
    assert status_of(refusal) == status


def test_every_refusal_the_domain_defines_has_its_status_shown_above() -> None:
    defined = {
        cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, BookingRefused)
    }

    assert defined == {type(refusal) for refusal, _ in CONTRACT}


def test_a_refusal_the_adapter_has_never_heard_of_answers_as_its_kind_does() -> None:
    class NoSuchOffer(Unknown):
        pass

    class LateRefusal(Refusal):
        pass

    assert status_of(NoSuchOffer("appointment_id", "nothing offered under apt-9")) == 404
    assert status_of(LateRefusal("day", "too late to book")) == 422


def test_a_reused_request_id_names_the_request_and_says_why() -> None:
    reused = RequestReused("req-41")

    assert (reused.code, reused.field) == ("request-reused", "request_id")
    assert reused.reason == "request id req-41 was already used for a different booking"
