"""The lapse timer in process: offers lapse by their deadline (and the reactor offers the day on),
a deadline that outlived its offer is dropped, callers whose days are over leave."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.booking.app.waitlist import Answers, OfferLapses, WaitlistSettings
from tests.unit.booking.builders import MONDAY, Booking, at, hours, station_day, waitlist_form

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
async def booking() -> Booking:
    return await Booking().start(("officer-1", "duty-1", station_day()))


def lapses(booking: Booking) -> OfferLapses:
    return OfferLapses(booking.handlers, WaitlistSettings(), clock=lambda: booking.now)


async def offered(booking: Booking) -> tuple[str, str]:
    """Monday full; two callers wait; the 6pm is cancelled and offered to the first for two hours."""
    monday = await booking.fill()
    first = await booking.join(waitlist_form())
    second = await booking.join(waitlist_form())
    await booking.cancel(monday[18])
    assert await booking.deliver() == ["AppointmentOffered"]
    return first, second


class TestGivenAnOfferStanding:
    async def test_before_its_deadline_nothing_lapses_and_the_deadline_is_told(
        self, booking: Booking
    ) -> None:
        first, _ = await offered(booking)
        deadline = booking.now + hours(2)

        assert await lapses(booking).lapse_due(booking.now + hours(1)) == deadline
        assert booking.events_of(first)[-1] == "AppointmentOffered"

    async def test_at_its_deadline_it_lapses_and_the_next_caller_is_offered_the_slot(
        self, booking: Booking
    ) -> None:
        first, second = await offered(booking)
        booking.now += hours(2)

        soonest = await lapses(booking).lapse_due(booking.now)

        assert soonest is None and booking.events_of(first)[-1] == "OfferLapsed"
        assert await booking.deliver() == ["AppointmentOffered"]
        assert (await booking.status(first), await booking.status(second)) == ("waiting", "offered")
        assert booking.events_of(first) == ["WaitlistJoined", "AppointmentOffered", "OfferLapsed"]
        assert set(booking.views.deadlines) == {second}

    async def test_a_deadline_that_outlived_its_offer_is_dropped_quietly(self, booking: Booking) -> None:
        first, _ = await offered(booking)
        left_behind = booking.views.deadlines[first]
        await Answers(booking.handlers).accept(first, booking.meta())
        booking.views.deadlines[first] = left_behind  # as if its row were left behind
        booking.now += hours(2)

        await lapses(booking).lapse_due(booking.now)

        assert booking.events_of(first)[-2:] == ["SlotBooked", "WaitlistLeft"]
        assert booking.views.deadlines == {}


class TestGivenCallersWaiting:
    async def test_those_whose_days_are_over_leave_and_the_others_stay(self, booking: Booking) -> None:
        over = await booking.join(waitlist_form())
        still = await booking.join(waitlist_form(MONDAY, TUESDAY))
        booking.now = at(TUESDAY, 0, 30)

        assert await lapses(booking).sweep(booking.now) == 1

        assert (await booking.status(over), await booking.status(still)) == ("left", "waiting")
        assert await lapses(booking).sweep(booking.now) == 0
