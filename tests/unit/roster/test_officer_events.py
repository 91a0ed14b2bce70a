"""An officer's stream holds the roster's events only: its decider refuses any other."""

from __future__ import annotations

from typing import get_args

import pytest

from schemas.base import latest_events
from schemas.reference import CountyReferenceLoaded
from schemas.roster import StaffMemberNamed
from schemas.topics import ROSTER_EVENTS
from services.roster.domain.decider import OfficerEvent, decide, event_of, fold
from tests.unit.roster.builders import NOW, given, register

# An event of booking's county stream, which an officer's stream never holds.
COUNTY_LOADED = CountyReferenceLoaded(county_id="hertfordshire", sha256="0" * 64, document={}, loaded_at=NOW)


class TestGivenAnEventOfAnOfficer:
    def test_when_narrowed_it_is_the_same_event(self) -> None:
        registered = decide(register(), given())[0]

        assert event_of(registered) is registered


class TestGivenAnEventOfAnotherStream:
    def test_when_narrowed_it_is_a_type_error_naming_it(self) -> None:
        with pytest.raises(TypeError, match="CountyReferenceLoaded"):
            event_of(COUNTY_LOADED)

    def test_when_folded_into_an_officer_it_is_refused_too(self) -> None:
        registered = decide(register(), given())

        with pytest.raises(TypeError):
            fold(given(), [*registered, COUNTY_LOADED])


def test_every_event_the_roster_publishes_is_an_officer_event_or_the_staff_directory_s() -> None:
    published = {cls for cls in latest_events() if cls.topic == ROSTER_EVENTS}

    assert published == set(get_args(OfficerEvent)) | {StaffMemberNamed}
