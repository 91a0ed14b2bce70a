"""The .ics of an appointment: where and when, its UID and sequence, and nothing of the case."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from icalendar import Calendar

from services.notifications.domain.appointment import evolve
from services.notifications.domain.calendar import ics
from tests.unit.notifications.builders import APPOINTMENT, RULES, london, slot_booked


def test_the_calendar_entry_has_the_place_and_time_and_no_case_detail() -> None:
    state = evolve(
        None, slot_booked(london(date(2026, 12, 2), time(17, 0)), london(date(2026, 12, 1), time(9, 0)))
    )
    assert state is not None
    raw = ics(state, RULES, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    entry = Calendar.from_ical(raw).walk("VEVENT")[0]
    assert str(entry["uid"]).startswith(APPOINTMENT)
    assert entry.decoded("dtstart") == datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    assert str(entry["location"]) == "Stevenage Police Station"
    assert b"41/12345/26" not in raw
