"""Booking a home visit by a district's diary car, in a window."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.booking import DiaryCarVisitBooked
from services.booking.domain.decider import decide
from services.booking.domain.errors import (
    ClosedDay,
    NotLiveYet,
    OutsideOpeningHours,
    Refusal,
    SlotTaken,
)
from tests.unit.booking.builders import MONDAY, at, book_visit, diary_car_day, given


class TestGivenAnEmptyDiaryCarDay:
    def test_a_window_is_booked_for_a_home_visit(self) -> None:
        events = decide(book_visit("visit-1", 10), given(diary_car_day()))

        assert len(events) == 1
        visit = events[0]
        assert isinstance(visit, DiaryCarVisitBooked)
        assert visit.diary == "diary-car:dacorum:2026-06-15"
        assert visit.diary_car_id == "dacorum-diary-car"
        assert (visit.window_starts_at, visit.window_ends_at) == (at(MONDAY, 10), at(MONDAY, 12))

    def test_a_visit_needs_the_callers_address(self) -> None:
        with pytest.raises(Refusal) as refused:
            decide(book_visit(address=False), given(diary_car_day()))

        assert refused.value.field == "caller.address"

    def test_a_time_that_is_not_a_window_start_is_refused(self) -> None:
        with pytest.raises(OutsideOpeningHours) as refused:
            decide(book_visit(hour=9), given(diary_car_day()))

        assert "8am to 8pm" in refused.value.reason

    def test_the_diary_car_does_not_run_on_a_bank_holiday(self) -> None:
        holiday = date(2026, 8, 31)
        with pytest.raises(ClosedDay):
            decide(book_visit(day=holiday), given(diary_car_day(day=holiday)))


class TestGivenADistrictNotYetLive:
    # Hertsmere went live on Monday 9 March 2015; the trial districts before.
    DAY = date(2015, 3, 2)

    def test_a_visit_before_go_live_is_refused_with_the_go_live_date(self) -> None:
        with pytest.raises(NotLiveYet) as refused:
            decide(
                book_visit(district_id="hertsmere", day=self.DAY, now=at(self.DAY, 7)),
                given(diary_car_day("hertsmere", self.DAY)),
            )

        assert refused.value.field == "day"
        assert "Hertsmere began scheduled appointments on Monday 9 March 2015" in refused.value.reason

    def test_a_trial_district_takes_visits_on_that_day(self) -> None:
        command = book_visit(district_id="dacorum", day=self.DAY, now=at(self.DAY, 7))

        assert decide(command, given(diary_car_day("dacorum", self.DAY)))

    def test_the_go_live_day_itself_takes_visits(self) -> None:
        day = date(2015, 3, 9)
        command = book_visit(district_id="hertsmere", day=day, now=at(day, 7))

        assert decide(command, given(diary_car_day("hertsmere", day)))


class TestGivenAWindowAlreadyTaken:
    def test_the_same_visit_again_yields_no_events(self) -> None:
        state = given(diary_car_day(), book_visit("visit-1", 12))

        assert decide(book_visit("visit-1", 12), state) == []

    def test_another_caller_gets_the_three_nearest_free_windows(self) -> None:
        state = given(diary_car_day(), book_visit("visit-1", 12))

        with pytest.raises(SlotTaken) as refused:
            decide(book_visit("visit-2", 12), state)

        # 8am and 4pm are equally near; the earlier wins.
        assert [s.starts_at for s in refused.value.alternatives] == [
            at(MONDAY, 8),
            at(MONDAY, 10),
            at(MONDAY, 14),
        ]
        assert all(s.place == "diary-car" and s.room_id is None for s in refused.value.alternatives)
