"""Assigning duties: one officer, one duty at a time; places checked against the county."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.roster import DutyAssigned
from services.roster.domain.decider import decide
from services.roster.domain.errors import Conflict, DutyClash, Refusal, UnknownOfficer
from tests.unit.roster.builders import MONDAY, NOW, OFFICER, assign, at, end_duty, given, register


class TestGivenAnOfficerWithNoDuties:
    def test_appointment_duty_at_a_station_is_assigned_in_utc(self) -> None:
        events = decide(assign(), given(register()))

        assert events == [
            DutyAssigned(
                officer_id=OFFICER,
                duty_id="duty-1",
                duty="appointments",
                station_id="cheshunt",
                district_id="broxbourne",
                starts_at=at(17),
                ends_at=at(20),
                assigned_at=NOW,
            )
        ]
        assert events[0].stream_key() == OFFICER
        assert at(17).isoformat() == "2026-06-15T16:00:00+00:00"

    def test_the_diary_car_is_for_a_district(self) -> None:
        assigned = decide(assign(duty="diary-car", station=None, district="dacorum", start=8, end=14),
                          given(register()))[0]  # fmt: skip

        assert isinstance(assigned, DutyAssigned)
        assert (assigned.duty, assigned.station_id, assigned.district_id) == ("diary-car", None, "dacorum")

    def test_the_diary_car_defaults_to_the_officers_district(self) -> None:
        assigned = decide(assign(duty="diary-car", station=None), given(register()))[0]

        assert isinstance(assigned, DutyAssigned)
        assert assigned.district_id == "broxbourne"

    @pytest.mark.parametrize("duty", ["emergency-response", "safer-neighbourhood"])
    def test_duties_that_give_no_appointments_need_no_appointment_room(self, duty: str) -> None:
        command = assign(duty=duty, station="royston", start=7, end=17)  # type: ignore[arg-type]

        assigned = decide(command, given(register()))[0]

        assert isinstance(assigned, DutyAssigned)
        assert (assigned.station_id, assigned.district_id) == ("royston", "north-hertfordshire")

    def test_an_unregistered_officer_is_unknown(self) -> None:
        with pytest.raises(UnknownOfficer) as refused:
            decide(assign(), given())

        assert refused.value.field == "officer_id"

    @pytest.mark.parametrize(
        ("command", "field", "words"),
        [
            (assign(station="gotham"), "station_id", "no station 'gotham'"),
            (assign(station="royston"), "station_id", "Royston station has no appointment room"),
            (assign(station=None), "station_id", "name the station"),
            (assign(duty="diary-car", station=None, district="gotham"), "district_id", "no district"),
            (assign(duty="diary-car", station="cheshunt"), "station_id", "whole district"),
            (assign(station="cheshunt", district="dacorum"), "district_id", "is in broxbourne"),
            (assign(start=20, end=17), "ends_at", "end after it starts"),
            (assign(start=17, end=17), "ends_at", "end after it starts"),
            (assign(day=MONDAY - timedelta(days=30)), "ends_at", "already be over"),
        ],
    )
    def test_a_bad_duty_is_refused_with_the_field_and_the_reason(
        self, command: object, field: str, words: str
    ) -> None:
        with pytest.raises(Refusal) as refused:
            decide(command, given(register()))  # type: ignore[arg-type]

        assert refused.value.field == field
        assert words in refused.value.reason

    def test_a_duty_longer_than_a_shift_is_refused(self) -> None:
        command = assign().model_copy(update={"ends_at": at(17) + timedelta(hours=25)})

        with pytest.raises(Refusal, match="at most 24 hours"):
            decide(command, given(register()))


class TestGivenAnOfficerAlreadyOnDuty:
    def test_an_overlapping_duty_is_a_clash_naming_the_duty_held(self) -> None:
        state = given(register(), assign("duty-1", 17, 20))

        with pytest.raises(DutyClash) as clash:
            decide(assign("duty-2", 19, 22, duty="emergency-response", station=None), state)

        assert clash.value.clashing.duty_id == "duty-1"
        assert "appointment duty at cheshunt" in clash.value.reason
        assert "duty-1" in clash.value.reason

    def test_a_duty_at_another_station_at_the_same_time_is_a_clash_too(self) -> None:
        with pytest.raises(DutyClash):
            decide(assign("duty-2", 18, 19, station="hitchin"), given(register(), assign("duty-1", 17, 20)))

    def test_a_duty_that_starts_as_the_other_ends_does_not_clash(self) -> None:
        state = given(register(), assign("duty-1", 17, 20))

        assert decide(assign("duty-2", 20, 22, duty="emergency-response", station=None), state)

    def test_the_time_freed_by_ending_a_duty_early_can_be_given_to_another(self) -> None:
        state = given(register(), assign("duty-1", 17, 20), end_duty("duty-1", ends_at=at(18)))

        assert decide(assign("duty-2", 18, 20, station="hitchin"), state)

    def test_assigning_the_same_duty_again_changes_nothing(self) -> None:
        assert decide(assign("duty-1"), given(register(), assign("duty-1"))) == []

    def test_the_same_duty_again_after_it_ended_early_still_changes_nothing(self) -> None:
        state = given(register(), assign("duty-1"), end_duty("duty-1", ends_at=at(18)))

        assert decide(assign("duty-1"), state) == []

    def test_a_duty_id_reused_for_another_duty_is_a_conflict(self) -> None:
        with pytest.raises(Conflict) as refused:
            decide(assign("duty-1", 8, 12), given(register(), assign("duty-1")))

        assert refused.value.field == "duty_id"
