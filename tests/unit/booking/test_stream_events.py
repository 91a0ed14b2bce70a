"""Which stream an event belongs to: each decider takes its own events and refuses the others'."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import pytest

from schemas.base import DomainEvent, latest_events
from schemas.topics import BOOKING_EVENTS
from services.booking.domain import decider, reference, requests, waitlist
from services.booking.domain.errors import EmergencyResponse
from services.booking.domain.reference import CountyState
from services.booking.domain.waitlist import Waitlist
from tests.unit.booking.builders import COUNTY, NOW, book_station, given, join, station_day

EventOf = Callable[[DomainEvent], DomainEvent]
# Each of booking's streams: how its decider narrows a stored event, and the events it holds.
STREAMS: dict[str, tuple[EventOf, tuple[type[DomainEvent], ...]]] = {
    "diary day": (decider.event_of, get_args(decider.DiaryDayEvent)),
    "waitlist": (waitlist.event_of, get_args(waitlist.WaitlistEvent)),
    "county": (reference.event_of, (reference.CountyEvent,)),
    "request": (requests.event_of, get_args(requests.RequestEvent)),
}


def recorded(stream: str) -> DomainEvent:
    """An event as that stream's decider records it."""
    if stream == "diary day":
        return decider.decide(book_station(), given(station_day()))[0]
    if stream == "waitlist":
        return waitlist.decide(join("waiting-1"), Waitlist("station", "cheshunt"))[0]
    if stream == "county":
        return reference.decide(reference.LoadCounty(COUNTY, NOW), CountyState())[0]
    refusal = requests.refusal_of("apt-1", EmergencyResponse("urgent"), NOW)
    return requests.decide(refusal, requests.initial_state("req-1"))[0]


PAIRS = [(own, other) for own in STREAMS for other in STREAMS if other != own]


@pytest.mark.parametrize("stream", list(STREAMS))
def test_given_an_event_of_a_stream_when_its_decider_narrows_it_then_it_is_the_same_event(
    stream: str,
) -> None:
    event = recorded(stream)
    event_of, _ = STREAMS[stream]

    assert event_of(event) is event


@pytest.mark.parametrize(("own", "other"), PAIRS, ids=[f"{own}-event-on-{other}" for own, other in PAIRS])
def test_given_an_event_of_another_stream_when_a_decider_narrows_it_then_it_is_a_type_error(
    own: str, other: str
) -> None:
    event = recorded(own)
    event_of, _ = STREAMS[other]

    with pytest.raises(TypeError, match=event.event_type):
        event_of(event)


def test_every_event_booking_publishes_belongs_to_exactly_one_of_its_streams() -> None:
    published = {cls for cls in latest_events() if cls.topic == BOOKING_EVENTS}
    held = [cls for _, events in STREAMS.values() for cls in events]

    assert sorted(c.event_type for c in held) == sorted(c.event_type for c in published)


def test_folding_a_stored_stream_narrows_every_event_and_refuses_a_stranger() -> None:
    day = given(station_day())
    booked = decider.decide(book_station(), day)
    stranger = recorded("waitlist")

    assert decider.fold(day, booked).find("apt-1") is not None
    with pytest.raises(TypeError):
        decider.fold(day, [*booked, stranger])
