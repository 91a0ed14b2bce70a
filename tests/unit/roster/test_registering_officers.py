"""Registering an officer: given the roster, when a supervisor registers, then the event or refusal."""

from __future__ import annotations

import pytest

from schemas.roster import OfficerRegistered
from services.roster.domain.decider import decide
from services.roster.domain.errors import Conflict, Refusal
from tests.unit.roster.builders import NOW, OFFICER, given, register


class TestGivenAnOfficerNotYetOnTheRoster:
    def test_registering_puts_them_on_the_roster_at_their_home_station(self) -> None:
        events = decide(register(), given())

        assert events == [
            OfficerRegistered(
                officer_id=OFFICER,
                collar_number="4127",
                station_id="cheshunt",
                district_id="broxbourne",
                registered_at=NOW,
            )
        ]
        assert events[0].stream_key() == OFFICER

    def test_the_district_defaults_to_the_home_stations(self) -> None:
        registered = decide(register(station="tring", district=None), given())[0]

        assert isinstance(registered, OfficerRegistered)
        assert registered.district_id == "dacorum"

    def test_a_station_without_an_appointment_room_can_still_be_home(self) -> None:
        assert decide(register(station="royston", district="north-hertfordshire"), given())

    def test_an_unknown_station_is_refused(self) -> None:
        with pytest.raises(Refusal) as refused:
            decide(register(station="gotham"), given())

        assert refused.value.field == "station_id"
        assert "no station 'gotham'" in refused.value.reason

    def test_a_station_in_another_district_is_refused(self) -> None:
        with pytest.raises(Refusal) as refused:
            decide(register(station="watford", district="dacorum"), given())

        assert refused.value.field == "district_id"
        assert "Watford station is in watford" in refused.value.reason


class TestGivenARegisteredOfficer:
    def test_registering_them_again_the_same_way_changes_nothing(self) -> None:
        assert decide(register(), given(register())) == []

    def test_registering_them_again_without_a_district_changes_nothing(self) -> None:
        assert decide(register(district=None), given(register())) == []

    def test_registering_the_same_id_as_someone_else_is_a_conflict(self) -> None:
        with pytest.raises(Conflict) as refused:
            decide(register(collar="5150"), given(register()))

        assert refused.value.field == "officer_id"
        assert "already registered as collar number 4127" in refused.value.reason
