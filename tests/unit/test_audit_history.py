"""The history and diary commands: facts in a line with personal data sealed, places and times as typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer

from cli.diary import diary_path
from cli.history import details
from cli.projections_client import instant

SEALED = {"subject_id": "subject-1", "nonce": "n", "ciphertext": "c"}


def test_an_events_facts_read_in_a_line_and_sealed_values_are_never_shown() -> None:
    data = {
        "appointment_id": "a-1", "diary": "station:stevenage:2027-02-03", "room_id": "room-1",
        "officer_id": None, "caller": {"subject_id": "subject-1", "name": SEALED}, "note": SEALED,
        "briefing": {"case_reference": "41/1/27", "summary": SEALED}, "flags": ["x"],
    }  # fmt: skip
    assert details(data) == "room_id=room-1, caller: sealed, note: sealed, briefing: sealed"


def test_a_place_is_a_station_or_a_diary_cars_district() -> None:
    assert diary_path("stevenage", "2027-02-03") == "/diaries/stations/stevenage/2027-02-03"
    assert diary_path("station:hatfield", "2027-02-03") == "/diaries/stations/hatfield/2027-02-03"
    assert diary_path("diary-car:dacorum", "2027-02-03") == "/diaries/diary-cars/dacorum/2027-02-03"
    with pytest.raises(typer.BadParameter):
        diary_path("moon:base", "2027-02-03")


def test_an_instant_without_an_offset_is_a_london_wall_clock_time() -> None:
    assert instant("2027-07-01T10:00").astimezone(UTC) == datetime(2027, 7, 1, 9, tzinfo=UTC)  # BST
    assert instant("2027-02-03T10:00:00Z") == datetime(2027, 2, 3, 10, tzinfo=UTC)
    assert instant("2027-02-03T10:00+01:00").utcoffset() == timedelta(hours=1)
    with pytest.raises(typer.BadParameter):
        instant("yesterday")
