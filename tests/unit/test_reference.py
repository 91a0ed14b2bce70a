"""The county's reference data as published (REFERENCE.md), read from the reviewed seed file."""

from __future__ import annotations

from datetime import date, time

import pytest

from services.common.reference import WEEKDAYS, bank_holiday, load_county

COUNTY = load_county()
EVENING = (time(17), time(18), time(19))
LATE_EVENING = (time(19), time(20), time(21))


def test_the_county_has_ten_districts() -> None:
    assert sorted(d.name for d in COUNTY.districts) == [
        "Broxbourne",
        "Dacorum",
        "East Hertfordshire",
        "Hertsmere",
        "North Hertfordshire",
        "St Albans",
        "Stevenage",
        "Three Rivers",
        "Watford",
        "Welwyn Hatfield",
    ]


def test_eleven_stations_offer_appointments() -> None:
    assert len(COUNTY.appointment_stations()) == 11


def test_every_appointment_station_has_a_confidential_room() -> None:
    assert all(len(s.rooms) == 1 for s in COUNTY.appointment_stations())


def test_stations_without_rooms_are_listed_but_offer_no_appointments() -> None:
    tring = COUNTY.station("tring")

    assert not tring.offers_appointments
    assert COUNTY.station("welwyn-garden-city").district == "welwyn-hatfield"


def test_hertford_opens_monday_wednesday_friday_and_sunday() -> None:
    assert set(COUNTY.station("hertford").appointment_days) == {"monday", "wednesday", "friday", "sunday"}


def test_bishops_stortford_opens_tuesday_thursday_and_saturday() -> None:
    assert set(COUNTY.station("bishops-stortford").appointment_days) == {"tuesday", "thursday", "saturday"}


def test_the_other_nine_stations_open_every_day() -> None:
    every_day = [s for s in COUNTY.appointment_stations() if s.appointment_days == WEEKDAYS]

    assert len(every_day) == 9


@pytest.mark.parametrize(
    ("day", "slots"),
    [
        (date(2026, 6, 14), EVENING),  # Sunday
        (date(2026, 6, 15), EVENING),  # Monday
        (date(2026, 6, 18), EVENING),  # Thursday
        (date(2026, 6, 19), LATE_EVENING),  # Friday
        (date(2026, 6, 20), LATE_EVENING),  # Saturday
    ],
)
def test_hourly_slots_run_5pm_to_8pm_sunday_to_thursday_and_7pm_to_10pm_friday_and_saturday(
    day: date, slots: tuple[time, ...]
) -> None:
    hours = COUNTY.station("watford").hours_on(day)

    assert hours is not None
    assert hours.slot_starts() == slots


def test_a_station_closed_on_a_weekday_has_no_hours_that_day() -> None:
    assert COUNTY.station("hertford").hours_on(date(2026, 6, 16)) is None


def test_hertsmere_and_welwyn_hatfield_went_live_on_9_march_2015() -> None:
    for district in ("hertsmere", "welwyn-hatfield"):
        assert COUNTY.district(district).scheduled_appointments_from == date(2015, 3, 9)


def test_the_trial_districts_went_live_first() -> None:
    trial = {COUNTY.district(d).scheduled_appointments_from for d in ("dacorum", "stevenage")}
    others = {d.scheduled_appointments_from for d in COUNTY.districts} - trial

    assert max(trial) < date(2015, 3, 9) <= min(others)


def test_every_district_has_a_diary_car_with_windows_through_the_day() -> None:
    for district in COUNTY.districts:
        car = COUNTY.diary_car(district.id)
        assert car.district == district.id
        assert car.windows[0].start == time(8)
        assert car.windows[-1].end == time(20)


def test_every_station_belongs_to_a_known_district() -> None:
    for station in COUNTY.stations:
        assert COUNTY.district(station.district)


def test_an_unknown_station_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        COUNTY.station("gotham")


def test_bank_holidays_are_england_and_wales_ones() -> None:
    assert bank_holiday(date(2026, 8, 31)) == "Late Summer Bank Holiday"
    # St Andrew's Day is a Scottish bank holiday, not an English one.
    assert bank_holiday(date(2026, 11, 30)) is None
    assert bank_holiday(date(2026, 6, 15)) is None


def test_the_county_is_read_once() -> None:
    assert load_county() is COUNTY
