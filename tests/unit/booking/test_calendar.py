"""The Europe/London calendar: clock changes, a day's slots and windows, times in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from schemas.booking import Slot
from services.booking.domain.calendar import (
    local_date,
    openings,
    spoken_day,
    spoken_span,
    to_utc,
)
from services.booking.domain.capacity import nearest_alternatives
from services.booking.domain.errors import ClockChange
from services.common.london import spoken_clock as spoken_time
from tests.unit.booking.builders import COUNTY


class TestTheSpringClockChange:
    DAY = date(2026, 3, 29)

    def test_1_30am_does_not_exist_and_is_refused_with_a_reason(self) -> None:
        with pytest.raises(ClockChange) as refused:
            to_utc(self.DAY, time(1, 30))

        assert refused.value.field == "start"
        assert refused.value.reason == (
            "1:30am on Sunday 29 March 2026 does not exist when the clocks go forward: choose another time"
        )

    def test_1am_does_not_exist_either(self) -> None:
        with pytest.raises(ClockChange):
            to_utc(self.DAY, time(1, 0))

    def test_times_either_side_of_the_gap_convert(self) -> None:
        assert to_utc(self.DAY, time(0, 59)) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
        assert to_utc(self.DAY, time(2, 0)) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


class TestTheAutumnClockChange:
    DAY = date(2026, 10, 25)

    def test_1_30am_happens_twice_and_is_refused_with_a_reason(self) -> None:
        with pytest.raises(ClockChange) as refused:
            to_utc(self.DAY, time(1, 30), field="window")

        assert refused.value.field == "window"
        assert "happens twice when the clocks go back" in refused.value.reason

    def test_times_either_side_of_the_overlap_convert(self) -> None:
        assert to_utc(self.DAY, time(0, 30)) == datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
        assert to_utc(self.DAY, time(2, 0)) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)


def test_a_late_evening_instant_in_utc_is_still_that_london_day() -> None:
    assert local_date(datetime(2026, 6, 15, 23, 30, tzinfo=UTC)) == date(2026, 6, 16)
    assert local_date(datetime(2026, 1, 15, 23, 30, tzinfo=UTC)) == date(2026, 1, 15)


def test_a_station_opens_hourly_slots_for_its_day() -> None:
    assert openings(COUNTY.station("stevenage"), date(2026, 6, 15)) == (
        (time(17), time(18)),
        (time(18), time(19)),
        (time(19), time(20)),
    )


def test_a_diary_car_opens_two_hour_windows() -> None:
    windows = openings(COUNTY.diary_car("stevenage"), date(2026, 6, 15))

    assert windows[0] == (time(8), time(10))
    assert len(windows) == 6


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (time(17), "5pm"),
        (time(17, 30), "5:30pm"),
        (time(12), "midday"),
        (time(0), "midnight"),
        (time(8), "8am"),
        (time(12, 15), "12:15pm"),
    ],
)
def test_times_are_written_the_uk_public_sector_way(at: time, words: str) -> None:
    assert spoken_time(at) == words


def test_days_and_spans_are_written_the_uk_public_sector_way() -> None:
    assert spoken_day(date(2026, 6, 16)) == "Tuesday 16 June 2026"
    assert spoken_span(time(17), time(20)) == "5pm to 8pm"


def test_the_nearest_alternatives_are_the_three_closest_in_time_order() -> None:
    def slot(day: int, hour: int) -> Slot:
        start = datetime(2026, 6, day, hour, tzinfo=UTC)
        return Slot(place="station", place_id="x", starts_at=start, ends_at=start)

    wanted = datetime(2026, 6, 15, 17, tzinfo=UTC)
    free = [slot(14, 18), slot(15, 16), slot(15, 18), slot(16, 16), slot(15, 14)]

    assert nearest_alternatives(wanted, free) == [slot(15, 14), slot(15, 16), slot(15, 18)]
