"""The waitlist process's own decisions, without servers: who is offered what, when an offer
lapses, what accepting books, and which requests to join are refused before sealing."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from schemas.booking import SlotBooked, WaitlistJoined, WaitlistLeft
from services.booking.app.waitlist import (
    MAX_RANGE_DAYS,
    NoOffer,
    booking_for,
    check_acceptable,
    check_declinable,
    check_range,
    chore_for,
    days_wanted,
    entries_of,
    entry_id_for,
    evolve_entries,
    next_offer,
    offer_expiry,
    without,
)
from services.booking.domain.commands import BookStationSlot, CancelAppointment, LapseOffer, OfferFreedSlot
from services.booking.domain.decider import decide
from services.booking.domain.errors import Refusal, WrongStatus
from services.booking.domain.waitlist import (
    JoinWaitlist,
    LeaveWaitlist,
    WaitingCaller,
    Waitlist,
    decide_waitlist,
)
from tests.unit.booking.builders import (
    MONDAY,
    NOW,
    at,
    book_station,
    briefing,
    caller,
    given,
    hours,
    join,
    on_duty,
    station_day,
)

EXPIRES = NOW + hours(2)
TUESDAY = MONDAY + timedelta(days=1)
OFFICERS = on_duty("officer-1")


def waitlist(*joins: JoinWaitlist) -> Waitlist:
    entries = entries_of("waitlist:station:cheshunt")
    for command in joins:
        for event in decide_waitlist(command, entries.waitlist):
            entries = evolve_entries(entries, event)
    return entries.waitlist


def offer(appointment_id: str = "waiting-1", hour: int = 17) -> OfferFreedSlot:
    return OfferFreedSlot(
        appointment_id=appointment_id, start=time(hour), expires_at=EXPIRES, on_duty=OFFICERS, now=NOW
    )


def full_monday() -> list[BookStationSlot]:
    return [book_station(f"apt-{h}", h, officers=OFFICERS) for h in (17, 18, 19)]


def cancel(appointment_id: str) -> CancelAppointment:
    return CancelAppointment(
        appointment_id=appointment_id, initiated_by="public", reason="duplicate", now=NOW
    )


WAITING = WaitingCaller("waiting-1", MONDAY, MONDAY)


class TestWhatEachCallerNeeds:
    def test_a_caller_never_offered_anything_may_be_offered_a_slot(self) -> None:
        assert chore_for(WAITING, None, NOW) == "free"

    def test_a_caller_holding_an_offer_is_offered_nothing_else_until_it_lapses(self) -> None:
        held = given(station_day(), offer()).find("waiting-1")

        assert chore_for(WAITING, held, NOW) == "holding"
        assert chore_for(WAITING, held, EXPIRES) == "lapse"

    def test_a_caller_who_let_an_offer_lapse_or_declined_it_may_be_offered_another(self) -> None:
        lapsed = given(station_day(), offer(), LapseOffer(appointment_id="waiting-1", now=EXPIRES))
        declined = given(station_day(), offer(), cancel("waiting-1"))

        assert chore_for(WAITING, lapsed.find("waiting-1"), EXPIRES) == "free"
        assert chore_for(WAITING, declined.find("waiting-1"), NOW) == "free"

    def test_a_caller_whose_id_is_booked_should_not_be_waiting(self) -> None:
        booked = given(station_day(), offer(), book_station("waiting-1", 17, officers=OFFICERS))

        assert chore_for(WAITING, booked.find("waiting-1"), NOW) == "booked"

    def test_a_caller_whose_days_have_all_gone_leaves(self) -> None:
        assert chore_for(WAITING, None, at(TUESDAY, 0, 30)) == "over"


class TestWhoIsOfferedWhat:
    def test_the_earliest_free_slot_goes_to_the_first_caller_waiting_whose_days_fit(self) -> None:
        queue = waitlist(join("later", TUESDAY, TUESDAY), join("first"), join("second"))
        day = given(station_day(), *full_monday()[:2])

        chosen = next_offer(queue, day, OFFICERS, NOW)

        assert chosen is not None
        assert chosen[0].appointment_id == "first"
        assert chosen[1].starts_at == at(MONDAY, 19)

    def test_a_full_day_offers_nothing_until_a_cancellation_frees_a_slot(self) -> None:
        queue = waitlist(join("first"))
        full = given(station_day(), *full_monday())

        assert next_offer(queue, full, OFFICERS, NOW) is None
        chosen = next_offer(queue, given(station_day(), *full_monday(), cancel("apt-18")), OFFICERS, NOW)
        assert chosen is not None and chosen[1].starts_at == at(MONDAY, 18)

    def test_new_duty_is_new_capacity_offered_like_a_cancellation(self) -> None:
        queue = waitlist(join("first"))
        day = given(station_day())

        assert next_offer(queue, day, (), NOW) is None
        chosen = next_offer(queue, day, on_duty("officer-2", start=18, end=19), NOW)
        assert chosen is not None and chosen[1].starts_at == at(MONDAY, 18)

    def test_a_held_slot_is_not_offered_to_the_next_caller(self) -> None:
        queue = without(waitlist(join("first"), join("second")), {"first"})
        day = given(station_day(), *full_monday()[:2], offer("first", 19))

        assert next_offer(queue, day, OFFICERS, NOW) is None

    def test_after_a_lapse_the_slot_goes_to_the_next_caller_not_the_same_one(self) -> None:
        queue = waitlist(join("first"), join("second"))
        day = given(
            station_day(),
            *full_monday()[:2],
            offer("first", 19),
            LapseOffer(appointment_id="first", now=EXPIRES),
        )

        chosen = next_offer(queue, day, OFFICERS, EXPIRES)

        assert chosen is not None and chosen[0].appointment_id == "second"

    def test_callers_set_aside_are_not_offered(self) -> None:
        queue = waitlist(join("first"), join("second"))

        assert [w.appointment_id for w in without(queue, {"first"}).waiting] == ["second"]

    def test_the_days_wanted_are_every_day_of_every_range_from_today(self) -> None:
        queue = waitlist(join("a", MONDAY, TUESDAY), join("b", TUESDAY, TUESDAY + timedelta(days=1)))

        assert days_wanted(queue, TUESDAY) == [TUESDAY, TUESDAY + timedelta(days=1)]

    def test_an_offer_lapses_after_the_hold_but_never_after_the_slot_begins(self) -> None:
        assert offer_expiry(NOW, NOW + hours(5), hours(2)) == NOW + hours(2)
        assert offer_expiry(NOW, NOW + hours(1), hours(2)) == NOW + hours(1)


class TestTakingAnOffer:
    def test_accepting_books_the_held_slot_under_the_same_appointment_id(self) -> None:
        day = given(station_day(), offer("waiting-1", 18))
        held = check_acceptable(day.find("waiting-1"), "waiting-1", NOW)
        joined = WaitlistJoined(
            appointment_id="waiting-1",
            diary="waitlist:station:cheshunt",
            place="station",
            place_id="cheshunt",
            from_day=MONDAY,
            to_day=MONDAY,
            caller=caller(),
            briefing=briefing(),
            joined_at=NOW,
        )

        events = decide(booking_for(day.diary, held, joined, OFFICERS, NOW), day)

        assert isinstance(events[0], SlotBooked)
        assert (events[0].appointment_id, events[0].starts_at) == ("waiting-1", at(MONDAY, 18))

    def test_an_offer_past_its_time_cannot_be_taken_even_before_it_is_recorded_as_lapsed(self) -> None:
        held = given(station_day(), offer()).find("waiting-1")

        with pytest.raises(WrongStatus, match="lapsed"):
            check_acceptable(held, "waiting-1", EXPIRES)

    def test_a_declined_offer_cannot_be_taken(self) -> None:
        declined = given(station_day(), offer(), cancel("waiting-1")).find("waiting-1")

        with pytest.raises(WrongStatus, match="declined"):
            check_acceptable(declined, "waiting-1", NOW)

    def test_nothing_offered_is_a_404(self) -> None:
        with pytest.raises(NoOffer):
            check_acceptable(None, "waiting-1", NOW)

    def test_an_offer_can_be_declined_until_it_lapses_and_declining_twice_is_no_error(self) -> None:
        check_declinable(given(station_day(), offer()).find("waiting-1"), "waiting-1")
        check_declinable(given(station_day(), offer(), cancel("waiting-1")).find("waiting-1"), "waiting-1")
        lapsed = given(station_day(), offer(), LapseOffer(appointment_id="waiting-1", now=EXPIRES))
        with pytest.raises(WrongStatus):
            check_declinable(lapsed.find("waiting-1"), "waiting-1")


class TestJoining:
    def test_a_range_of_more_than_four_weeks_is_refused(self) -> None:
        check_range(MONDAY, MONDAY + timedelta(days=MAX_RANGE_DAYS - 1))
        with pytest.raises(Refusal) as refused:
            check_range(MONDAY, MONDAY + timedelta(days=MAX_RANGE_DAYS))
        assert refused.value.field == "to_day"

    def test_the_same_request_id_joins_under_the_same_entry_id(self) -> None:
        assert entry_id_for("req-1") == entry_id_for("req-1") != entry_id_for("req-2")
        assert entry_id_for(None) != entry_id_for(None)

    def test_the_waitlist_keeps_the_sealed_details_only_of_those_still_waiting(self) -> None:
        entries = entries_of("waitlist:diary-car:dacorum")
        for event in decide_waitlist(join("a"), entries.waitlist):
            entries = evolve_entries(entries, event)
        assert entries.waitlist.place == "diary-car" and set(entries.joined) == {"a"}
        left = decide_waitlist(LeaveWaitlist(appointment_id="a", booked=True, now=NOW), entries.waitlist)
        assert isinstance(left[0], WaitlistLeft)
        entries = evolve_entries(entries, left[0])
        assert entries.joined == {} and entries.waitlist.left == {"a"}

    def test_only_a_waitlist_stream_is_read_as_one(self) -> None:
        with pytest.raises(ValueError):
            entries_of("station:cheshunt:2026-06-15")
