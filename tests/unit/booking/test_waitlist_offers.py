"""When nothing suits: the waitlist, a freed slot offered to the first caller waiting, the offer
taken or lapsing."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given as given_any
from hypothesis import settings
from hypothesis import strategies as st

from schemas.booking import AppointmentOffered, OfferLapsed, SlotBooked, WaitlistJoined, WaitlistLeft
from services.booking.domain.commands import CancelAppointment, LapseOffer, OfferFreedSlot
from services.booking.domain.decider import decide
from services.booking.domain.errors import BookingRefused, EmergencyResponse, Refusal, SlotTaken, WrongStatus
from services.booking.domain.waitlist import (
    JoinWaitlist,
    LeaveWaitlist,
    Waitlist,
    decide_waitlist,
    evolve_waitlist,
    next_to_offer,
)
from tests.unit.booking.builders import (
    MONDAY,
    NOW,
    after,
    book_station,
    given,
    hours,
    join,
    station_day,
)

EXPIRES = NOW + hours(2)


def waitlist(*joins: JoinWaitlist) -> Waitlist:
    state = Waitlist("station", "cheshunt")
    for command in joins:
        for event in decide_waitlist(command, state):
            state = evolve_waitlist(state, event)
    return state


def offer(appointment_id: str = "waiting-1", hour: int = 17) -> OfferFreedSlot:
    return OfferFreedSlot(appointment_id=appointment_id, start=time(hour), expires_at=EXPIRES, now=NOW)


class TestJoiningTheWaitlist:
    def test_a_caller_joins_for_a_date_range(self) -> None:
        events = decide_waitlist(join("waiting-1"), waitlist())

        assert isinstance(events[0], WaitlistJoined)
        assert events[0].diary == "waitlist:station:cheshunt"

    def test_joining_twice_yields_no_events(self) -> None:
        assert decide_waitlist(join("waiting-1"), waitlist(join("waiting-1"))) == []

    def test_an_urgent_incident_never_waits(self) -> None:
        urgent = join("waiting-1").model_copy(update={"incident_grade": "urgent"})

        with pytest.raises(EmergencyResponse):
            decide_waitlist(urgent, waitlist())

    def test_a_range_ending_before_it_begins_is_refused(self) -> None:
        with pytest.raises(Refusal):
            decide_waitlist(join("waiting-1", MONDAY, date(2026, 6, 14)), waitlist())


class TestGivenCallersWaiting:
    def test_the_first_caller_whose_range_fits_is_offered_the_freed_slot(self) -> None:
        later = date(2026, 6, 20)
        queue = waitlist(join("waiting-1", later, later), join("waiting-2"), join("waiting-3"))

        chosen = next_to_offer(queue, given(station_day()), NOW)

        assert chosen is not None
        assert chosen.appointment_id == "waiting-2"

    def test_a_caller_who_let_an_offer_on_that_day_lapse_is_passed_over(self) -> None:
        queue = waitlist(join("waiting-1"), join("waiting-2"))
        day = given(station_day(), offer("waiting-1"), LapseOffer(appointment_id="waiting-1", now=EXPIRES))

        chosen = next_to_offer(queue, day, EXPIRES)

        assert chosen is not None
        assert chosen.appointment_id == "waiting-2"

    def test_a_caller_who_booked_leaves_the_waitlist(self) -> None:
        queue = waitlist(join("waiting-1"))
        events = decide_waitlist(LeaveWaitlist(appointment_id="waiting-1", booked=True, now=NOW), queue)

        assert isinstance(events[0], WaitlistLeft)
        assert next_to_offer(evolve_waitlist(queue, events[0]), given(station_day()), NOW) is None


class TestGivenAFreedSlotOffered:
    def test_the_offer_holds_the_slot_against_other_callers(self) -> None:
        day = given(
            station_day(),
            book_station("apt-1", 17),
            CancelAppointment(
                appointment_id="apt-1", initiated_by="public", reason="no-longer-needed", now=NOW
            ),
        )
        offered = decide(offer(), day)

        assert isinstance(offered[0], AppointmentOffered)
        assert offered[0].expires_at == EXPIRES
        with pytest.raises(SlotTaken):
            decide(book_station("apt-2", 17), after(day, offer()))

    def test_the_waiting_caller_takes_it_by_booking_with_their_appointment_id(self) -> None:
        events = decide(book_station("waiting-1", 17), given(station_day(), offer()))

        assert isinstance(events[0], SlotBooked)

    def test_an_offer_made_twice_yields_no_events(self) -> None:
        assert decide(offer(), given(station_day(), offer())) == []

    def test_the_offer_lapses_once_it_expires(self) -> None:
        events = decide(LapseOffer(appointment_id="waiting-1", now=EXPIRES), given(station_day(), offer()))

        assert isinstance(events[0], OfferLapsed)

    def test_the_offer_cannot_lapse_before_it_expires(self) -> None:
        with pytest.raises(Refusal):
            decide(LapseOffer(appointment_id="waiting-1", now=NOW), given(station_day(), offer()))

    def test_a_lapsed_offer_frees_the_slot_and_cannot_be_taken_late(self) -> None:
        day = given(station_day(), offer(), LapseOffer(appointment_id="waiting-1", now=EXPIRES))

        assert decide(book_station("apt-2", 17), day)
        with pytest.raises(WrongStatus):
            decide(book_station("waiting-1", 17), day)

    def test_a_taken_offer_does_not_lapse(self) -> None:
        day = given(station_day(), offer(), book_station("waiting-1", 17))

        assert decide(LapseOffer(appointment_id="waiting-1", now=EXPIRES), day) == []


WAITLIST_STEPS = st.lists(
    st.tuples(st.sampled_from(["join", "leave"]), st.sampled_from(["w-1", "w-2", "w-3"])), max_size=12
)


@settings(max_examples=50, deadline=None)
@given_any(steps=WAITLIST_STEPS)
def test_any_joins_and_leaves_keep_each_caller_waiting_at_most_once(steps: list[tuple[str, str]]) -> None:
    state = Waitlist("station", "cheshunt")
    for kind, appointment_id in steps:
        command = (
            join(appointment_id)
            if kind == "join"
            else LeaveWaitlist(appointment_id=appointment_id, booked=False, now=NOW)
        )
        try:
            events = decide_waitlist(command, state)
        except BookingRefused:
            continue
        for event in events:
            state = evolve_waitlist(state, event)
        assert decide_waitlist(command, state) == []
        waiting = [w.appointment_id for w in state.waiting]
        assert len(waiting) == len(set(waiting))
        assert not set(waiting) & state.left
