"""The waitlist's use cases in process, on the in-memory store: join, see an entry, accept,
decline, leave; booking.events delivered to the reactor as Kafka would deliver them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.booking.app.waitlist import Answers, Waitlists
from services.booking.app.waitlist.forms import MAX_RANGE_DAYS, RequestUsed, check_range, entry_id_for
from services.booking.domain.errors import Refusal, SlotTaken, WrongStatus
from services.booking.domain.offers import NoOffer
from tests.unit.booking.builders import MONDAY, Booking, at, booking_form, hours, station_day, waitlist_form

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
async def booking() -> Booking:
    return await Booking().start(("officer-1", "duty-1", station_day()))


class TestJoining:
    async def test_a_caller_for_a_full_day_waits(self, booking: Booking) -> None:
        await booking.fill()

        entry, events = await Waitlists(booking.handlers).join(waitlist_form(), booking.meta())

        assert [e.event_type for e in events] == ["WaitlistJoined"]
        assert await booking.deliver() == []
        assert (await Waitlists(booking.handlers).status(entry)).state == "waiting"

    async def test_the_same_request_id_joins_once_and_not_on_another_waitlist(self, booking: Booking) -> None:
        waitlists = Waitlists(booking.handlers)
        first, _ = await waitlists.join(waitlist_form(request_id="req-1"), booking.meta())

        again, events = await waitlists.join(waitlist_form(request_id="req-1"), booking.meta())

        assert (again, events) == (first, [])
        with pytest.raises(RequestUsed):
            await waitlists.join(waitlist_form(place_id="hertford", request_id="req-1"), booking.meta())

    async def test_a_caller_who_joins_while_a_slot_is_free_is_offered_it(self, booking: Booking) -> None:
        entry, _ = await Waitlists(booking.handlers).join(waitlist_form(), booking.meta())

        assert await booking.deliver() == ["AppointmentOffered"]
        status = await Waitlists(booking.handlers).status(entry)
        assert status.state == "offered" and status.appointment is not None
        assert status.appointment.starts_at == at(MONDAY, 17)
        assert status.appointment.offer_expires_at == booking.now + hours(2)

    async def test_a_caller_who_asked_for_their_own_hold_gets_it(self, booking: Booking) -> None:
        entry, _ = await Waitlists(booking.handlers).join(
            waitlist_form(offer_hold_seconds=60), booking.meta()
        )
        await booking.deliver()

        status = await Waitlists(booking.handlers).status(entry)

        assert status.appointment is not None
        assert status.appointment.offer_expires_at == booking.now + timedelta(seconds=60)

    async def test_an_unknown_station_is_refused_before_anything_is_sealed(self, booking: Booking) -> None:
        with pytest.raises(Refusal) as refused:
            await Waitlists(booking.handlers).join(waitlist_form(place_id="gotham"), booking.meta())

        assert refused.value.field == "place_id"

    def test_a_range_of_more_than_four_weeks_is_refused(self) -> None:
        check_range(MONDAY, MONDAY + timedelta(days=MAX_RANGE_DAYS - 1))
        with pytest.raises(Refusal) as refused:
            check_range(MONDAY, MONDAY + timedelta(days=MAX_RANGE_DAYS))
        assert refused.value.field == "to_day"

    def test_the_same_request_id_names_the_same_entry(self) -> None:
        assert entry_id_for("req-1") == entry_id_for("req-1") != entry_id_for("req-2")
        assert entry_id_for(None) != entry_id_for(None)


class TestGivenAnOffer:
    async def offered(self, booking: Booking) -> tuple[dict[int, str], str, str]:
        """Monday full; two callers wait; the 6pm slot is cancelled and offered to the first."""
        booked = await booking.fill()
        waitlists = Waitlists(booking.handlers)
        first, _ = await waitlists.join(waitlist_form(), booking.meta())
        second, _ = await waitlists.join(waitlist_form(), booking.meta())
        await booking.cancel(booked[18])
        assert await booking.deliver() == ["AppointmentOffered"]
        return booked, first, second

    async def test_the_slot_is_held_for_the_caller_against_anyone_else(self, booking: Booking) -> None:
        await self.offered(booking)

        with pytest.raises(SlotTaken):
            await booking.handlers.book("station", "cheshunt", booking_form(MONDAY, 18), booking.meta())

    async def test_accepting_books_it_under_the_entry_id_and_leaves_the_waitlist(
        self, booking: Booking
    ) -> None:
        _, first, _ = await self.offered(booking)
        answers = Answers(booking.handlers)

        taken = await answers.accept(first, booking.meta())

        assert [e.event_type for e in taken.events] == ["SlotBooked", "WaitlistLeft"]
        assert (taken.appointment.appointment_id, taken.appointment.starts_at) == (first, at(MONDAY, 18))
        assert (await answers.accept(first, booking.meta())).events == []  # the same answer again
        assert (await Waitlists(booking.handlers).status(first)).state == "booked"
        assert booking.views.deadlines == {}

    async def test_declining_offers_it_to_the_next_caller_never_again_to_the_same(
        self, booking: Booking
    ) -> None:
        _, first, second = await self.offered(booking)

        declined = await Answers(booking.handlers).decline(first, False, booking.meta())

        assert [e.event_type for e in declined] == ["AppointmentCancelled"]
        assert await booking.deliver() == ["AppointmentOffered"]
        assert (await Waitlists(booking.handlers).status(second)).state == "offered"
        assert (await Waitlists(booking.handlers).status(first)).state == "waiting"
        assert booking.events_of(first).count("AppointmentOffered") == 1
        with pytest.raises(WrongStatus, match="declined"):
            await Answers(booking.handlers).accept(first, booking.meta())

    async def test_leaving_while_offered_frees_the_slot_for_the_next_caller(self, booking: Booking) -> None:
        _, first, second = await self.offered(booking)

        left = await Answers(booking.handlers).leave(first, booking.meta())

        assert [e.event_type for e in left] == ["AppointmentCancelled", "WaitlistLeft"]
        assert await booking.deliver() == ["AppointmentOffered"]
        assert (await Waitlists(booking.handlers).status(first)).state == "left"
        assert (await Waitlists(booking.handlers).status(second)).state == "offered"

    async def test_past_its_deadline_the_offer_cannot_be_taken(self, booking: Booking) -> None:
        _, first, _ = await self.offered(booking)
        booking.now += hours(2)

        with pytest.raises(WrongStatus, match="lapsed"):
            await Answers(booking.handlers).accept(first, booking.meta())

    async def test_nothing_offered_is_nothing_to_answer(self, booking: Booking) -> None:
        entry, _ = await Waitlists(booking.handlers).join(waitlist_form(TUESDAY), booking.meta())

        with pytest.raises(NoOffer):
            await Answers(booking.handlers).decline(entry, False, booking.meta())
        with pytest.raises(NoOffer):
            await Answers(booking.handlers).accept("no-such-entry", booking.meta())
