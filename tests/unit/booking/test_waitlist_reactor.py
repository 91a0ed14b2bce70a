"""The reactor in process: each event that frees capacity or adds demand is offered on by looking
at the one day (or the one caller's days) that changed, never at every waitlist.

Booking's roster consumer reads the real clock, so these days are years ahead of it.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from schemas.roster import DutyAssigned, OfficerWithdrawn
from services.booking.app.lifecycle import Lifecycle
from services.booking.app.ports import Entry
from services.booking.app.waitlist import Answers
from services.common.consumer import Transient
from tests.unit.booking.builders import Booking, at, hours, station_day, waitlist_form

MONDAY = date(2040, 6, 18)
TUESDAY = MONDAY + timedelta(days=1)
NOW = at(MONDAY - timedelta(days=5), 10)


@pytest.fixture
async def booking() -> Booking:
    return await Booking(NOW).start(
        ("officer-1", "duty-1", station_day(day=MONDAY)),
        ("officer-2", "duty-2", station_day("hertford", MONDAY)),
    )


def duty(officer_id: str, station_id: str, day: date, start: int, end: int) -> DutyAssigned:
    return DutyAssigned(
        officer_id=officer_id, duty_id=f"{officer_id}-{day}", duty="appointments", station_id=station_id,
        district_id="broxbourne", starts_at=at(day, start), ends_at=at(day, end), assigned_at=NOW,
    )  # fmt: skip


class TestWhenAnAppointmentIsCancelled:
    async def test_it_is_offered_there_while_a_busy_unrelated_waitlist_is_not_reloaded(
        self, booking: Booking
    ) -> None:
        cheshunt = await booking.fill(MONDAY)
        await booking.fill(MONDAY, "hertford")
        busy = [await booking.join(waitlist_form(MONDAY, place_id="hertford")) for _ in range(5)]
        waiting = await booking.join(waitlist_form(MONDAY))
        await booking.deliver()
        booking.store.loaded.clear()

        await booking.cancel(cheshunt[18])
        assert await booking.deliver() == ["AppointmentOffered"]

        assert await booking.status(waiting) == "offered"
        assert all([await booking.status(b) == "waiting" for b in busy])
        assert "waitlist:station:hertford" not in booking.store.loaded
        assert not [s for s in booking.store.loaded if s.startswith("station:hertford")]
        assert set(booking.store.loaded) == {f"station:cheshunt:{MONDAY}", "waitlist:station:cheshunt"}

    async def test_one_nobody_waits_for_loads_nothing_more(self, booking: Booking) -> None:
        cheshunt = await booking.fill(MONDAY)
        await booking.join(waitlist_form(TUESDAY))  # waiting, but not for Monday
        await booking.deliver()
        await booking.cancel(cheshunt[17])
        booking.store.loaded.clear()

        assert await booking.deliver() == []
        assert booking.store.loaded == []

    async def test_delivered_twice_it_changes_nothing(self, booking: Booking) -> None:
        cheshunt = await booking.fill(MONDAY)
        await booking.join(waitlist_form(MONDAY))
        await booking.join(waitlist_form(MONDAY))
        await booking.deliver()
        await booking.cancel(cheshunt[19])
        assert await booking.deliver() == ["AppointmentOffered"]
        cancelled = next(o for o in booking.store.outbox if o.envelope.event_type == "AppointmentCancelled")
        before = len(booking.store.outbox)

        await booking.reactor.apply(None, cancelled.envelope, None)  # type: ignore[arg-type]

        assert len(booking.store.outbox) == before

    async def test_a_caller_seen_leaving_meanwhile_is_not_offered_it_is_decided_again(
        self, booking: Booking, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cheshunt = await booking.fill(MONDAY)
        waiting = await booking.join(waitlist_form(MONDAY))
        await booking.deliver()
        await booking.cancel(cheshunt[18])

        async def left_meanwhile(appointment_id: str) -> Entry:
            # As if they took another offer after the reaction read the waitlist (still waiting
            # there) but before it read the offers held (theirs already gone).
            return Entry("waitlist:station:cheshunt", True, True)

        monkeypatch.setattr(booking.views, "entry_of", left_meanwhile)
        with pytest.raises(Transient):
            await booking.deliver()

        assert booking.events_of(waiting) == ["WaitlistJoined"]


class TestWhenAnAppointmentMoves:
    async def test_a_reschedule_within_the_day_looks_at_that_day_again(self, booking: Booking) -> None:
        monday = await booking.fill(MONDAY)
        waiting = await booking.join(waitlist_form(MONDAY))
        await booking.cancel(monday[19])
        assert await booking.deliver() == ["AppointmentOffered"]
        await Answers(booking.handlers).decline(waiting, False, booking.meta())
        assert await booking.deliver() == []  # the 7pm is free: they declined it, nobody else waits
        booking.store.loaded.clear()

        await Lifecycle(booking.handlers).reschedule(
            monday[17], MONDAY, time(19), "public", "caller-asked", booking.meta()
        )
        booking.store.loaded.clear()

        assert await booking.deliver() == []  # never offered again a day they declined
        assert set(booking.store.loaded) == {f"station:cheshunt:{MONDAY}", "waitlist:station:cheshunt"}
        assert booking.events_of(waiting).count("AppointmentOffered") == 1

    async def test_a_move_to_another_day_offers_the_old_time(self, booking: Booking) -> None:
        monday = await booking.fill(MONDAY)
        waiting = await booking.join(waitlist_form(MONDAY))
        await booking.deliver()
        await booking.roster(duty("officer-3", "cheshunt", TUESDAY, 8, 22))

        await Lifecycle(booking.handlers).reschedule(
            monday[17], TUESDAY, time(17), "public", "caller-asked", booking.meta()
        )

        assert await booking.deliver() == ["AppointmentOffered"]
        assert await booking.status(waiting) == "offered"
        assert booking.views.deadlines[waiting][0] == f"station:cheshunt:{MONDAY}"


class TestWhenNewDutyArrives:
    async def test_its_capacity_is_offered_to_the_callers_waiting_inside_the_roster_unit(
        self, booking: Booking
    ) -> None:
        waiting = await booking.join(waitlist_form(TUESDAY))
        assert await booking.deliver() == []  # nobody on duty on Tuesday yet

        await booking.roster(duty("officer-3", "cheshunt", TUESDAY, 17, 18))

        assert await booking.status(waiting) == "offered"
        assert booking.events_of(waiting) == ["WaitlistJoined", "AppointmentOffered"]

    async def test_duty_where_nobody_waits_loads_no_waitlist(self, booking: Booking) -> None:
        await booking.join(waitlist_form(TUESDAY))
        await booking.deliver()
        booking.store.loaded.clear()

        await booking.roster(duty("officer-3", "hertford", TUESDAY, 8, 22))

        assert booking.store.loaded == []


class TestGivenACallerHoldingAnOffer:
    async def test_they_are_offered_no_second_day_until_their_offer_ends(self, booking: Booking) -> None:
        await booking.roster(duty("officer-3", "cheshunt", TUESDAY, 8, 22))
        monday, tuesday = await booking.fill(MONDAY), await booking.fill(TUESDAY)
        waiting = await booking.join(waitlist_form(MONDAY, TUESDAY))
        await booking.cancel(monday[18])
        assert await booking.deliver() == ["AppointmentOffered"]

        await booking.cancel(tuesday[17])
        assert await booking.deliver() == []  # they hold Monday's 6pm
        await Answers(booking.handlers).decline(waiting, False, booking.meta())

        assert await booking.deliver() == ["AppointmentOffered"]
        assert booking.views.deadlines[waiting][0] == f"station:cheshunt:{TUESDAY}"
        assert booking.events_of(waiting) == [
            "WaitlistJoined", "AppointmentOffered", "AppointmentCancelled", "AppointmentOffered",
        ]  # fmt: skip

    async def test_a_withdrawal_that_lapses_it_frees_them_for_their_other_days(
        self, booking: Booking
    ) -> None:
        monday = await booking.fill(MONDAY)
        waiting = await booking.join(waitlist_form(MONDAY, TUESDAY))
        await booking.cancel(monday[18])
        assert await booking.deliver() == ["AppointmentOffered"]
        await booking.roster(duty("officer-3", "cheshunt", TUESDAY, 8, 22))  # they hold Monday's 6pm

        await booking.roster(
            OfficerWithdrawn(
                officer_id="officer-1",
                withdrawal_id="w-1",
                starts_at=at(MONDAY, 16),
                ends_at=at(MONDAY, 22),
                reason="court",
                withdrawn_at=NOW,
            )
        )

        assert booking.events_of(waiting)[-1] == "OfferLapsed"
        assert await booking.deliver() == [
            "AppointmentOffered"
        ]  # Tuesday's 7pm: the 5pm and 6pm took the others
        assert booking.views.deadlines[waiting] == (f"station:cheshunt:{TUESDAY}", booking.now + hours(2))
