"""Booking a station slot: given a day, when a call taker books, then the events or the refusal."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.booking import SlotBooked
from services.booking.domain.decider import decide, initial_state
from services.booking.domain.errors import (
    ClockChange,
    ClosedDay,
    EmergencyResponse,
    InThePast,
    NotLiveYet,
    OutsideOpeningHours,
    Refusal,
    SlotTaken,
    WrongStatus,
)
from services.booking.domain.state import Diary
from tests.unit.booking.builders import COUNTY, MONDAY, NOW, at, book_station, given, hours, station_day


class TestGivenAnEmptyStationDay:
    def test_a_free_slot_is_booked_in_the_confidential_room(self) -> None:
        events = decide(book_station("apt-1", 18), given(station_day()))

        assert len(events) == 1
        booked = events[0]
        assert isinstance(booked, SlotBooked)
        assert booked.appointment_id == "apt-1"
        assert booked.stream_key() == "apt-1"
        assert booked.diary == "station:cheshunt:2026-06-15"
        assert booked.room_id == "cheshunt-room-1"
        assert booked.district_id == "broxbourne"
        assert (booked.starts_at, booked.ends_at) == (at(MONDAY, 18), at(MONDAY, 19))
        assert booked.booked_at == NOW
        assert booked.officer_id is None

    def test_the_booked_time_is_stored_in_utc(self) -> None:
        booked = decide(book_station("apt-1", 17), given(station_day()))[0]

        assert isinstance(booked, SlotBooked)
        assert booked.starts_at.utcoffset() is not None
        assert booked.starts_at.isoformat() == "2026-06-15T16:00:00+00:00"

    def test_friday_slots_run_from_7pm_to_10pm(self) -> None:
        friday = date(2026, 6, 19)
        state = given(station_day(day=friday))

        assert decide(book_station(hour=21, day=friday), state)
        with pytest.raises(OutsideOpeningHours) as refused:
            decide(book_station(hour=17, day=friday), state)
        assert "7pm, 8pm, 9pm" in refused.value.reason

    def test_an_urgent_incident_goes_to_emergency_response(self) -> None:
        with pytest.raises(EmergencyResponse) as refused:
            decide(book_station(grade="urgent"), given(station_day()))

        assert refused.value.field == "incident_grade"
        assert "emergency response" in refused.value.reason

    def test_a_priority_incident_goes_to_emergency_response(self) -> None:
        with pytest.raises(EmergencyResponse):
            decide(book_station(grade="priority"), given(station_day()))

    def test_a_time_off_the_hour_is_outside_opening_hours(self) -> None:
        with pytest.raises(OutsideOpeningHours) as refused:
            decide(book_station(hour=17, minute=30), given(station_day()))

        assert refused.value.field == "start"
        assert refused.value.code == "outside-hours"

    def test_a_morning_time_is_outside_opening_hours(self) -> None:
        with pytest.raises(OutsideOpeningHours) as refused:
            decide(book_station(hour=10), given(station_day()))

        assert "5pm to 8pm" in refused.value.reason

    def test_a_slot_that_has_begun_is_in_the_past(self) -> None:
        with pytest.raises(InThePast) as refused:
            decide(book_station(hour=17, now=at(MONDAY, 17) + hours(0.25)), given(station_day()))

        assert refused.value.field == "start"

    def test_a_command_for_another_day_is_refused(self) -> None:
        with pytest.raises(Refusal):
            decide(book_station(day=date(2026, 6, 16)), given(station_day()))


class TestGivenAStationOpenOnSomeDaysOnly:
    def test_hertford_takes_appointments_on_a_monday(self) -> None:
        assert decide(book_station(station_id="hertford"), given(station_day("hertford")))

    def test_hertford_is_closed_on_a_tuesday(self) -> None:
        tuesday = date(2026, 6, 16)
        with pytest.raises(ClosedDay) as refused:
            decide(
                book_station(station_id="hertford", day=tuesday),
                given(station_day("hertford", tuesday)),
            )

        assert refused.value.field == "day"
        assert "Hertford station takes no appointments on Tuesdays" in refused.value.reason

    def test_bishops_stortford_is_open_on_a_tuesday(self) -> None:
        tuesday = date(2026, 6, 16)
        state = given(station_day("bishops-stortford", tuesday))

        assert decide(book_station(station_id="bishops-stortford", day=tuesday), state)


class TestGivenABankHoliday:
    # Monday 25 May 2026 is the spring bank holiday.
    HOLIDAY = date(2026, 5, 25)

    def test_a_station_closed_on_bank_holidays_refuses_with_the_holiday_named(self) -> None:
        with pytest.raises(ClosedDay) as refused:
            decide(
                book_station(station_id="hertford", day=self.HOLIDAY, now=NOW.replace(month=5)),
                given(station_day("hertford", self.HOLIDAY)),
            )

        assert "Spring Bank Holiday" in refused.value.reason

    def test_a_station_open_on_bank_holidays_books(self) -> None:
        command = book_station(station_id="cheshunt", day=self.HOLIDAY, now=NOW.replace(month=5))

        assert decide(command, given(station_day("cheshunt", self.HOLIDAY)))


class TestGivenADayBeforeGoLive:
    def test_station_appointments_before_25_june_2018_are_not_live(self) -> None:
        day = date(2018, 6, 18)
        with pytest.raises(NotLiveYet) as refused:
            decide(book_station(day=day, now=at(day, 9)), given(station_day(day=day)))

        assert "Monday 25 June 2018" in refused.value.reason


class TestGivenAClockChangeDay:
    def test_1_30am_on_the_spring_change_does_not_exist(self) -> None:
        day = date(2026, 3, 29)
        with pytest.raises(ClockChange) as refused:
            decide(book_station(hour=1, minute=30, day=day, now=at(day, 0)), given(station_day(day=day)))

        assert refused.value.field == "start"
        assert "does not exist" in refused.value.reason

    def test_1_30am_on_the_autumn_change_happens_twice(self) -> None:
        day = date(2026, 10, 25)
        with pytest.raises(ClockChange) as refused:
            decide(book_station(hour=1, minute=30, day=day), given(station_day(day=day)))

        assert "happens twice" in refused.value.reason

    def test_evening_slots_on_a_clock_change_day_book_at_the_new_offset(self) -> None:
        day = date(2026, 3, 29)
        booked = decide(book_station(hour=17, day=day, now=at(day, 0)), given(station_day(day=day)))[0]

        assert isinstance(booked, SlotBooked)
        assert booked.starts_at.isoformat() == "2026-03-29T16:00:00+00:00"


class TestGivenASlotAlreadyBooked:
    def test_the_same_booking_again_yields_no_events(self) -> None:
        state = given(station_day(), book_station("apt-1", 18))

        assert decide(book_station("apt-1", 18), state) == []

    def test_the_same_appointment_id_at_another_time_is_refused(self) -> None:
        state = given(station_day(), book_station("apt-1", 18))

        with pytest.raises(WrongStatus):
            decide(book_station("apt-1", 19), state)

    def test_another_caller_loses_the_race_with_the_nearest_free_slots(self) -> None:
        state = given(station_day(), book_station("apt-1", 18))

        with pytest.raises(SlotTaken) as refused:
            decide(book_station("apt-2", 18), state)

        assert refused.value.code == "slot-taken"
        assert "fully booked at 6pm" in refused.value.reason
        assert [s.starts_at for s in refused.value.alternatives] == [at(MONDAY, 17), at(MONDAY, 19)]

    def test_another_slot_on_the_same_day_is_still_free(self) -> None:
        state = given(station_day(), book_station("apt-1", 18))

        assert decide(book_station("apt-2", 19), state)


class TestChoosingADiaryDay:
    def test_a_stream_id_names_the_place_and_the_london_date(self) -> None:
        diary = Diary.parse("station:hertford:2026-06-15")

        assert diary == station_day("hertford")
        assert diary.stream_id == "station:hertford:2026-06-15"
        assert Diary.parse("diary-car:dacorum:2026-06-15").place == "diary-car"

    def test_a_stream_that_is_not_a_diary_day_is_rejected(self) -> None:
        with pytest.raises(ValueError):
            Diary.parse("waitlist:station:hertford")

    def test_an_unknown_station_has_no_diary(self) -> None:
        with pytest.raises(Refusal) as refused:
            initial_state(station_day("gotham"), COUNTY)

        assert refused.value.field == "place_id"

    def test_a_station_without_an_appointment_room_has_no_diary(self) -> None:
        with pytest.raises(Refusal) as refused:
            initial_state(station_day("tring"), COUNTY)

        assert "Tring station has no appointment room" in refused.value.reason
