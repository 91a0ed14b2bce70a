"""Times are shown the UK public-sector way, in Europe/London."""

from datetime import UTC, date, datetime

from services.common.london import spoken_day, spoken_range, spoken_time


def test_summer_evening_slot_reads_in_british_summer_time() -> None:
    assert spoken_range(datetime(2026, 6, 14, 16, tzinfo=UTC), datetime(2026, 6, 14, 17, tzinfo=UTC)) == (
        "5pm to 6pm"
    )


def test_winter_time_is_utc_and_half_hours_show_minutes() -> None:
    assert spoken_time(datetime(2026, 12, 1, 17, 30, tzinfo=UTC)) == "5:30pm"


def test_noon_and_midnight_have_names() -> None:
    assert spoken_time(datetime(2026, 1, 5, 12, tzinfo=UTC)) == "midday"
    assert spoken_time(datetime(2026, 1, 5, 0, tzinfo=UTC)) == "midnight"


def test_days_are_written_in_full() -> None:
    assert spoken_day(date(2026, 6, 16)) == "Tuesday 16 June 2026"
