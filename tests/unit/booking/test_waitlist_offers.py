"""When nothing suits: who a freed slot is offered to, when the offer lapses, how it is answered.

Given / when / then over the waitlist decider, the diary day and the rules in ``offers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta

import pytest

from schemas.booking import AppointmentOffered, OfferLapsed, SlotBooked, WaitlistJoined, WaitlistLeft
from services.booking.domain.calendar import local_time
from services.booking.domain.commands import BookStationSlot, CancelAppointment, LapseOffer, OfferFreedSlot
from services.booking.domain.decider import decide
from services.booking.domain.errors import EmergencyResponse, Refusal, SlotTaken, WrongStatus
from services.booking.domain.offers import (
    NoOffer,
    booking_for,
    check_acceptable,
    check_declinable,
    days_of,
    days_over,
    days_touched,
    days_wanted,
    next_to_offer,
    offer_day,
    offer_days,
    offer_expiry,
)
from services.booking.domain.waitlist import JoinWaitlist, LeaveWaitlist, WaitingCaller, Waitlist
from services.booking.domain.waitlist import decide as decide_waitlist
from services.booking.domain.waitlist import evolve as evolve_waitlist
from tests.unit.booking.builders import (
    MONDAY,
    NOW,
    after,
    at,
    book_station,
    briefing,
    caller,
    given,
    hours,
    join,
    on_duty,
    station_day,
    waitlist_of,
)

EXPIRES = NOW + hours(2)
TUESDAY = MONDAY + timedelta(days=1)
OFFICERS = on_duty("officer-1")
HOLD = hours(2)


def offer(appointment_id: str = "waiting-1", hour: int = 17) -> OfferFreedSlot:
    return OfferFreedSlot(
        appointment_id=appointment_id, start=time(hour), expires_at=EXPIRES, on_duty=OFFICERS, now=NOW
    )


def cancel(appointment_id: str) -> CancelAppointment:
    return CancelAppointment(
        appointment_id=appointment_id, initiated_by="public", reason="no-longer-needed", now=NOW
    )


def lapse(appointment_id: str = "waiting-1") -> LapseOffer:
    return LapseOffer(appointment_id=appointment_id, now=EXPIRES)


def decide_join(command: JoinWaitlist) -> list[object]:
    return list(decide_waitlist(command, Waitlist("station", "cheshunt")))


def joined(appointment_id: str) -> WaitlistJoined:
    return WaitlistJoined(
        appointment_id=appointment_id,
        diary="waitlist:station:cheshunt",
        place="station",
        place_id="cheshunt",
        from_day=MONDAY,
        to_day=MONDAY,
        caller=caller(),
        briefing=briefing(),
        joined_at=NOW,
    )


def full_monday() -> list[BookStationSlot]:
    return [book_station(f"apt-{h}", h, officers=OFFICERS) for h in (17, 18, 19)]


def offered_to(events: Sequence[object]) -> list[tuple[str, int]]:
    """(caller, London hour) of each offer made."""
    return [
        (e.appointment_id, local_time(e.slot.starts_at).hour)
        for e in events
        if isinstance(e, AppointmentOffered)
    ]


class TestGivenAnEmptyWaitlist:
    def test_a_caller_joins_for_a_date_range(self) -> None:
        events = decide_join(join("waiting-1"))

        assert isinstance(events[0], WaitlistJoined)
        assert events[0].diary == "waitlist:station:cheshunt"

    def test_a_caller_who_asks_for_their_own_hold_has_it_recorded(self) -> None:
        events = decide_join(join("waiting-1").model_copy(update={"offer_hold_seconds": 60}))

        assert isinstance(events[0], WaitlistJoined) and events[0].offer_hold_seconds == 60
        assert waitlist_of(join("waiting-1", hold_seconds=60)).waiting[0].offer_hold_seconds == 60

    def test_an_urgent_incident_never_waits(self) -> None:
        with pytest.raises(EmergencyResponse):
            decide_join(join("waiting-1").model_copy(update={"incident_grade": "urgent"}))

    def test_a_range_ending_before_it_begins_is_refused(self) -> None:
        with pytest.raises(Refusal):
            decide_join(join("waiting-1", MONDAY, date(2026, 6, 14)))

    def test_a_range_wholly_in_the_past_is_refused(self) -> None:
        with pytest.raises(Refusal, match="past"):
            decide_join(join("waiting-1", date(2026, 6, 1), date(2026, 6, 2)))


class TestGivenCallersWaiting:
    def test_joining_twice_changes_nothing(self) -> None:
        assert decide_waitlist(join("waiting-1"), waitlist_of(join("waiting-1"))) == []

    def test_the_first_caller_whose_days_include_the_freed_day_is_chosen(self) -> None:
        queue = waitlist_of(join("later", TUESDAY, TUESDAY), join("first"), join("second"))

        chosen = next_to_offer(queue, given(station_day()), NOW)

        assert chosen is not None and chosen.appointment_id == "first"

    def test_a_caller_holding_another_offer_is_passed_over(self) -> None:
        queue = waitlist_of(join("first"), join("second"))

        chosen = next_to_offer(queue, given(station_day()), NOW, holding={"first"})

        assert chosen is not None and chosen.appointment_id == "second"

    def test_a_caller_who_let_an_offer_on_that_day_lapse_is_never_offered_it_again(self) -> None:
        queue = waitlist_of(join("waiting-1"), join("waiting-2"))
        day = given(station_day(), offer("waiting-1"), lapse("waiting-1"))

        chosen = next_to_offer(queue, day, EXPIRES)

        assert chosen is not None and chosen.appointment_id == "waiting-2"

    def test_a_caller_who_declined_an_offer_on_that_day_is_never_offered_it_again(self) -> None:
        queue = waitlist_of(join("waiting-1"))
        day = given(station_day(), offer("waiting-1"), cancel("waiting-1"))

        assert next_to_offer(queue, day, NOW) is None

    def test_a_caller_who_left_is_offered_nothing(self) -> None:
        queue = waitlist_of(join("waiting-1"))
        (left,) = decide_waitlist(LeaveWaitlist(appointment_id="waiting-1", booked=True, now=NOW), queue)

        assert isinstance(left, WaitlistLeft)
        assert next_to_offer(evolve_waitlist(queue, left), given(station_day()), NOW) is None

    def test_a_day_of_another_station_is_never_offered_from_this_waitlist(self) -> None:
        assert next_to_offer(waitlist_of(join("waiting-1")), given(station_day("hertford")), NOW) is None

    def test_a_day_already_gone_is_offered_to_nobody(self) -> None:
        assert next_to_offer(waitlist_of(join("waiting-1")), given(station_day()), at(TUESDAY, 9)) is None


class TestGivenAFullDay:
    def test_nothing_is_offered_until_a_cancellation_frees_a_slot(self) -> None:
        queue = waitlist_of(join("first"))
        full = given(station_day(), *full_monday())

        assert offer_day(full, queue, OFFICERS, NOW, (), HOLD) == []
        freed = after(full, cancel("apt-18"))
        assert offered_to(offer_day(freed, queue, OFFICERS, NOW, (), HOLD)) == [("first", 18)]

    def test_new_duty_is_new_capacity_offered_like_a_cancellation(self) -> None:
        queue = waitlist_of(join("first"))
        day = given(station_day())

        assert offer_day(day, queue, (), NOW, (), HOLD) == []
        late_duty = on_duty("officer-2", start=18, end=19)
        assert offered_to(offer_day(day, queue, late_duty, NOW, (), HOLD)) == [("first", 18)]

    def test_two_freed_slots_go_earliest_first_to_the_first_two_callers_who_fit(self) -> None:
        queue = waitlist_of(join("first"), join("elsewhere", TUESDAY, TUESDAY), join("second"), join("third"))
        freed = given(station_day(), *full_monday(), cancel("apt-19"), cancel("apt-17"))

        events = offer_day(freed, queue, OFFICERS, NOW, (), HOLD)

        assert offered_to(events) == [("first", 17), ("second", 19)]

    def test_a_slot_held_for_one_caller_is_not_offered_to_the_next(self) -> None:
        queue = waitlist_of(join("first"), join("second"))
        day = given(station_day(), *full_monday()[:2], offer("first", 19))

        assert offer_day(day, queue, OFFICERS, NOW, {"first"}, HOLD) == []


class TestGivenSeveralDaysFreed:
    def test_a_caller_is_offered_one_day_only_the_earliest(self) -> None:
        queue = waitlist_of(join("first", MONDAY, TUESDAY))
        days = [
            (given(station_day()), OFFICERS),
            (given(station_day(day=TUESDAY)), on_duty("o", day=TUESDAY)),
        ]

        monday, tuesday = offer_days(days, queue, NOW, (), HOLD)

        assert offered_to(monday) == [("first", 17)] and tuesday == []

    def test_the_days_that_suit_a_caller_start_today(self) -> None:
        waiting = WaitingCaller("a", MONDAY, TUESDAY + timedelta(days=1))

        assert days_of(waiting, TUESDAY) == [TUESDAY, TUESDAY + timedelta(days=1)]
        queue = waitlist_of(join("a", MONDAY, TUESDAY), join("b", TUESDAY, TUESDAY + timedelta(days=1)))
        assert days_wanted(queue, TUESDAY) == [TUESDAY, TUESDAY + timedelta(days=1)]

    def test_a_duty_touches_every_london_day_it_spans(self) -> None:
        assert days_touched(at(MONDAY, 22), at(TUESDAY, 0)) == [MONDAY]
        assert days_touched(at(MONDAY, 22), at(TUESDAY, 2)) == [MONDAY, TUESDAY]


class TestWhenAnOfferIsMade:
    def test_it_stands_for_the_hold_but_never_after_the_slot_begins(self) -> None:
        assert offer_expiry(NOW, NOW + hours(5), hours(2)) == NOW + hours(2)
        assert offer_expiry(NOW, NOW + hours(1), hours(2)) == NOW + hours(1)

    def test_a_callers_own_hold_is_used_instead_of_the_services(self) -> None:
        queue = waitlist_of(join("first", hold_seconds=60))

        (made,) = offer_day(given(station_day()), queue, OFFICERS, NOW, (), HOLD)

        assert isinstance(made, AppointmentOffered) and made.expires_at == NOW + timedelta(seconds=60)

    def test_the_offer_holds_the_slot_against_other_callers(self) -> None:
        day = given(station_day(), book_station("apt-1", 17), cancel("apt-1"))
        (offered,) = decide(offer(), day)

        assert isinstance(offered, AppointmentOffered) and offered.expires_at == EXPIRES
        with pytest.raises(SlotTaken):
            decide(book_station("apt-2", 17), after(day, offer()))

    def test_an_offer_made_twice_yields_no_events(self) -> None:
        assert decide(offer(), given(station_day(), offer())) == []


class TestGivenAnOfferStanding:
    def test_it_lapses_once_its_time_is_up(self) -> None:
        (lapsed,) = decide(lapse(), given(station_day(), offer()))

        assert isinstance(lapsed, OfferLapsed)

    def test_it_cannot_lapse_before_its_time(self) -> None:
        with pytest.raises(Refusal):
            decide(LapseOffer(appointment_id="waiting-1", now=NOW), given(station_day(), offer()))

    def test_accepting_books_the_held_slot_under_the_same_appointment_id(self) -> None:
        day = given(station_day(), offer("waiting-1", 18))
        held = check_acceptable(day.find("waiting-1"), "waiting-1", NOW)

        (booked,) = decide(booking_for(day, held, joined("waiting-1"), OFFICERS, NOW), day)

        assert isinstance(booked, SlotBooked)
        assert (booked.appointment_id, booked.starts_at) == ("waiting-1", at(MONDAY, 18))

    def test_past_its_time_it_cannot_be_taken_even_before_it_is_recorded_as_lapsed(self) -> None:
        with pytest.raises(WrongStatus, match="lapsed"):
            check_acceptable(given(station_day(), offer()).find("waiting-1"), "waiting-1", EXPIRES)

    def test_it_can_be_declined_and_declining_twice_is_no_error(self) -> None:
        check_declinable(given(station_day(), offer()).find("waiting-1"), "waiting-1")
        check_declinable(given(station_day(), offer(), cancel("waiting-1")).find("waiting-1"), "waiting-1")

    def test_a_taken_offer_does_not_lapse(self) -> None:
        day = given(station_day(), offer(), book_station("waiting-1", 17, officers=OFFICERS))

        assert decide(lapse(), day) == []


class TestGivenAnOfferEnded:
    def test_a_lapsed_offer_frees_the_slot_and_cannot_be_taken_late(self) -> None:
        day = given(station_day(), offer(), lapse())

        assert decide(book_station("apt-2", 17), day)
        with pytest.raises(WrongStatus):
            decide(book_station("waiting-1", 17), day)
        with pytest.raises(WrongStatus, match="lapsed"):
            check_declinable(day.find("waiting-1"), "waiting-1")

    def test_a_declined_offer_cannot_be_taken(self) -> None:
        declined = given(station_day(), offer(), cancel("waiting-1")).find("waiting-1")

        with pytest.raises(WrongStatus, match="declined"):
            check_acceptable(declined, "waiting-1", NOW)

    def test_nothing_offered_is_nothing_to_answer(self) -> None:
        with pytest.raises(NoOffer):
            check_acceptable(None, "waiting-1", NOW)
        with pytest.raises(NoOffer):
            check_declinable(None, "waiting-1")


class TestWhenACallersDaysAreOver:
    def test_they_are_over_once_the_last_day_has_gone(self) -> None:
        waiting = WaitingCaller("waiting-1", MONDAY, MONDAY)

        assert not days_over(waiting, MONDAY)
        assert days_over(waiting, TUESDAY)
        assert days_of(waiting, TUESDAY) == []
