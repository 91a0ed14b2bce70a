"""Quiet hours on the London clock, across the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from services.common.london import LONDON
from services.notifications.domain.quiet import QuietHours, wall_instant
from tests.unit.notifications.builders import london

QUIET = QuietHours(time(21, 0), time(8, 0))


def test_evening_and_early_morning_are_quiet_daytime_is_not() -> None:
    day = date(2026, 12, 1)
    assert QUIET.is_quiet(london(day, time(21, 0)))
    assert QUIET.is_quiet(london(day, time(7, 59)))
    assert not QUIET.is_quiet(london(day, time(8, 0)))
    assert not QUIET.is_quiet(london(day, time(20, 59)))


def test_a_text_due_at_night_waits_until_eight_the_next_morning() -> None:
    sent = QUIET.next_allowed(london(date(2026, 12, 1), time(22, 30)))
    assert sent == london(date(2026, 12, 2), time(8, 0))
    assert QUIET.next_allowed(london(date(2026, 12, 2), time(3, 0))) == london(date(2026, 12, 2), time(8, 0))


def test_quiet_hours_follow_the_london_clock_in_summer_and_winter() -> None:
    # 20:30 UTC is 21:30 in summer (quiet) but 20:30 in winter (not).
    assert QUIET.is_quiet(datetime(2026, 6, 15, 20, 30, tzinfo=UTC))
    assert not QUIET.is_quiet(datetime(2026, 12, 15, 20, 30, tzinfo=UTC))


def test_on_the_spring_clock_change_the_night_is_an_hour_shorter_and_ends_at_eight_bst() -> None:
    # Sunday 29 March 2026: clocks go from 01:00 GMT to 02:00 BST.
    ends = QUIET.next_allowed(london(date(2026, 3, 28), time(23, 0)))
    assert ends == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert ends.astimezone(LONDON).time() == time(8, 0)


def test_on_the_autumn_clock_change_quiet_ends_at_eight_gmt() -> None:
    # Sunday 25 October 2026: clocks go back from 02:00 BST to 01:00 GMT.
    assert QUIET.next_allowed(london(date(2026, 10, 24), time(23, 0))) == datetime(
        2026, 10, 25, 8, 0, tzinfo=UTC
    )
    # 01:30 happens twice that night; both are quiet.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert QUIET.is_quiet(first) and QUIET.is_quiet(first + timedelta(hours=1))


def test_a_quiet_edge_in_the_skipped_hour_is_the_first_minute_after_it() -> None:
    edge = wall_instant(date(2026, 3, 29), time(1, 30))
    assert edge == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert edge.astimezone(LONDON).time() == time(2, 0)
    ends_in_gap = QuietHours(time(23, 0), time(1, 30))
    assert ends_in_gap.next_allowed(london(date(2026, 3, 28), time(23, 30))) == edge


def test_a_quiet_edge_in_the_repeated_hour_is_the_first_time_it_happens() -> None:
    # Sunday 31 October 2027: 01:00 to 02:00 London happens twice (BST, then GMT).
    edge = wall_instant(date(2027, 10, 31), time(1, 0))
    assert edge == datetime(2027, 10, 31, 0, 0, tzinfo=UTC)  # 01:00 BST, not 01:00 GMT
    # Quiet from 01:00: a text due at 01:59 BST, for an appointment at 01:00 GMT, cannot wait
    # for the morning; it goes just before quiet began, which is before 01:00 BST, not 01:59.
    quiet = QuietHours(time(1, 0), time(0, 0))
    due, pointless = datetime(2027, 10, 31, 0, 59, tzinfo=UTC), datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
    placed = quiet.place(datetime(2027, 10, 31, 0, 0, tzinfo=UTC), pointless)
    assert placed == datetime(2027, 10, 30, 23, 59, tzinfo=UTC) and not quiet.is_quiet(placed)
    assert quiet.is_quiet(due)


def test_a_text_that_cannot_wait_for_morning_goes_before_the_quiet_hours_began() -> None:
    day = date(2026, 12, 2)
    # Due at 06:00 for something pointless from 07:30: pulled back to 20:59 the evening before.
    placed = QUIET.place(london(day, time(6, 0)), london(day, time(7, 30)))
    assert placed == london(date(2026, 12, 1), time(20, 59))
    assert QUIET.place(london(day, time(6, 0)), london(date(2026, 12, 1), time(20, 0))) is None


def test_equal_edges_mean_never_quiet() -> None:
    always = QuietHours(time(0, 0), time(0, 0))
    assert not always.is_quiet(london(date(2026, 12, 2), time(3, 0)))
