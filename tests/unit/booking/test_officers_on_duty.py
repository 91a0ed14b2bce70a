"""Officers on appointment duty give capacity; a withdrawal keeps booked times where it can.

Roster facts come in on the command (``on_duty``): the officers on appointment duty
at the station that day, net of withdrawals.
"""

from __future__ import annotations

import pytest

from schemas.booking import (
    AppointmentDisplaced,
    AppointmentReassigned,
    AppointmentRescheduled,
    SlotBooked,
)
from services.booking.domain.commands import CoverWithdrawal, OfficerOnDuty
from services.booking.domain.decider import decide, fold, initial_state
from services.booking.domain.errors import SlotTaken
from services.booking.domain.state import DiaryDay
from services.common.reference import Room
from tests.unit.booking.builders import (
    COUNTY,
    MONDAY,
    NOW,
    after,
    at,
    book_station,
    given,
    on_duty,
    station_day,
)


def two_room_day() -> DiaryDay:
    """Cheshunt with a second room, so the officer, not the room, is what runs out."""
    station = COUNTY.station("cheshunt")
    rooms = (*station.rooms, Room(id="cheshunt-room-2", name="Confidential room 2"))
    county = COUNTY.model_copy(
        update={
            "stations": tuple(
                s.model_copy(update={"rooms": rooms}) if s.id == "cheshunt" else s for s in COUNTY.stations
            )
        }
    )
    return initial_state(station_day(), county)


def withdraw(officer: str, remaining: tuple[OfficerOnDuty, ...], withdrawal: str = "w-1") -> CoverWithdrawal:
    return CoverWithdrawal(
        withdrawal_id=withdrawal,
        officer_id=officer,
        starts_at=at(MONDAY, 16),
        ends_at=at(MONDAY, 22),
        reason="officer-withdrawn",
        on_duty=remaining,
        now=NOW,
    )


class TestGivenOfficersOnDuty:
    def test_a_booking_allocates_an_officer_on_duty(self) -> None:
        booked = decide(book_station(officers=on_duty("pc-101")), given(station_day()))[0]

        assert isinstance(booked, SlotBooked)
        assert booked.officer_id == "pc-101"

    def test_nobody_on_duty_means_no_slot(self) -> None:
        with pytest.raises(SlotTaken) as refused:
            decide(book_station(officers=()), given(station_day()))

        assert "no officer on appointment duty" in refused.value.reason
        assert refused.value.alternatives == []

    def test_an_officer_whose_duty_ends_before_the_slot_does_not_count(self) -> None:
        with pytest.raises(SlotTaken):
            decide(book_station(hour=19, officers=on_duty("pc-101", end=19)), given(station_day()))

    def test_a_second_room_is_no_use_without_a_second_officer(self) -> None:
        state = after(two_room_day(), book_station("apt-1", officers=on_duty("pc-101")))

        with pytest.raises(SlotTaken) as refused:
            decide(book_station("apt-2", officers=on_duty("pc-101")), state)

        assert "no officer" in refused.value.reason

    def test_two_officers_fill_two_rooms_at_the_same_hour(self) -> None:
        officers = on_duty("pc-101", "pc-102")
        state = after(two_room_day(), book_station("apt-1", officers=officers))
        second = decide(book_station("apt-2", officers=officers), state)[0]

        assert isinstance(second, SlotBooked)
        assert (second.room_id, second.officer_id) == ("cheshunt-room-2", "pc-102")


class TestGivenAnOfficerWithdrawn:
    def booked(self) -> DiaryDay:
        officers = on_duty("pc-101", "pc-102")
        return after(
            two_room_day(), book_station("apt-1", officers=officers), book_station("apt-2", officers=officers)
        )

    def test_another_free_officer_takes_the_appointment_at_the_same_time(self) -> None:
        officers = on_duty("pc-101", "pc-102", "pc-103")
        state = after(two_room_day(), book_station("apt-1", officers=officers))

        events = decide(withdraw("pc-101", on_duty("pc-102", "pc-103")), state)

        assert len(events) == 1
        moved = events[0]
        assert isinstance(moved, AppointmentReassigned)
        assert (moved.from_officer_id, moved.to_officer_id) == ("pc-101", "pc-102")
        assert moved.starts_at == at(MONDAY, 17)
        assert moved.withdrawal_id == "w-1"

    def test_the_same_withdrawal_twice_changes_nothing(self) -> None:
        state = after(two_room_day(), book_station("apt-1", officers=on_duty("pc-101", "pc-102")))
        command = withdraw("pc-101", on_duty("pc-102"))

        assert decide(command, fold(state, decide(command, state))) == []

    def test_when_nobody_is_free_then_it_moves_to_the_days_earliest_free_slot(self) -> None:
        events = decide(withdraw("pc-101", on_duty("pc-102")), self.booked())

        assert len(events) == 1
        moved = events[0]
        assert isinstance(moved, AppointmentRescheduled)
        assert (moved.from_starts_at, moved.starts_at) == (at(MONDAY, 17), at(MONDAY, 18))
        assert moved.officer_id == "pc-102"
        assert moved.initiated_by == "police"
        assert moved.caller_to_be_told
        assert moved.reason == "officer-withdrawn" and moved.withdrawal_id == "w-1"

    def test_when_the_day_has_no_free_slot_it_is_displaced_for_another_day(self) -> None:
        officers = on_duty("pc-101")
        state = after(two_room_day(), *(book_station(f"apt-{h}", h, officers=officers) for h in (17, 18, 19)))

        events = decide(withdraw("pc-101", ()), state)

        assert [type(e) for e in events] == [AppointmentDisplaced] * 3
        displaced = fold(state, events)
        assert {a.status for a in displaced.appointments} == {"displaced"}
        assert decide(withdraw("pc-101", ()), displaced) == []

    def test_a_withdrawal_never_gives_one_officer_two_appointments_at_once(self) -> None:
        events = decide(withdraw("pc-101", on_duty("pc-102", "pc-103")), self.booked())

        assert len(events) == 1
        assert isinstance(events[0], AppointmentReassigned)
        assert events[0].to_officer_id == "pc-103"
