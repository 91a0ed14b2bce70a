"""The county's reference stream: each distinct version recorded once, the latest in force."""

from __future__ import annotations

from schemas.reference import CountyReferenceLoaded
from services.booking.domain.reference import LoadCounty, decide, fold, initial_state
from tests.unit.booking.builders import COUNTY, NOW, hours

RENAMED = COUNTY.model_copy(update={"name": "Hertfordshire (renamed)"})


class TestGivenNoReferenceDataYet:
    def test_loading_the_county_records_its_document_and_fingerprint(self) -> None:
        events = decide(LoadCounty(COUNTY, NOW), initial_state())

        assert len(events) == 1
        assert isinstance(events[0], CountyReferenceLoaded)
        assert events[0].document == COUNTY.model_dump(mode="json")
        assert len(events[0].sha256) == 64

    def test_once_recorded_it_is_the_county_in_force(self) -> None:
        state = fold(initial_state(), decide(LoadCounty(COUNTY, NOW), initial_state()))

        assert state.county == COUNTY


class TestGivenThisVersionInForce:
    def test_loading_it_again_records_nothing(self) -> None:
        state = fold(initial_state(), decide(LoadCounty(COUNTY, NOW), initial_state()))

        assert decide(LoadCounty(COUNTY, NOW + hours(1)), state) == []

    def test_a_changed_document_is_recorded_as_a_new_version_and_takes_over(self) -> None:
        state = fold(initial_state(), decide(LoadCounty(COUNTY, NOW), initial_state()))

        changed = decide(LoadCounty(RENAMED, NOW + hours(1)), state)

        assert len(changed) == 1
        assert fold(state, changed).county == RENAMED
