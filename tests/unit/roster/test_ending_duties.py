"""Ending a duty early or as planned; ending it again changes nothing."""

from __future__ import annotations

import pytest

from schemas.roster import DutyEnded
from services.roster.domain.decider import decide
from services.roster.domain.errors import Refusal, UnknownDuty, UnknownOfficer
from tests.unit.roster.builders import NOW, OFFICER, assign, at, end_duty, given, register


class TestGivenAnOfficerOnAppointmentDuty:
    def test_ending_it_early_says_so_and_says_what_the_duty_was(self) -> None:
        events = decide(end_duty(ends_at=at(18), reason="major-incident"),
                        given(register(), assign()))  # fmt: skip

        assert events == [
            DutyEnded(
                officer_id=OFFICER,
                duty_id="duty-1",
                ends_at=at(18),
                early=True,
                reason="major-incident",
                ended_at=NOW,
                duty="appointments",
                station_id="cheshunt",
                district_id="broxbourne",
                starts_at=at(17),
            )
        ]

    def test_ending_it_now_during_the_duty_ends_it_now(self) -> None:
        ended = decide(end_duty(now=at(18, 30)), given(register(), assign()))[0]

        assert isinstance(ended, DutyEnded)
        assert (ended.ends_at, ended.early) == (at(18, 30), True)

    def test_ending_it_now_after_it_finished_ends_it_as_planned(self) -> None:
        ended = decide(end_duty(now=at(21)), given(register(), assign()))[0]

        assert isinstance(ended, DutyEnded)
        assert (ended.ends_at, ended.early) == (at(20), False)

    def test_ending_it_now_before_it_began_calls_it_off(self) -> None:
        ended = decide(end_duty(), given(register(), assign()))[0]

        assert isinstance(ended, DutyEnded)
        assert (ended.ends_at, ended.early) == (at(17), True)

    def test_ending_it_later_than_planned_is_refused(self) -> None:
        with pytest.raises(Refusal) as refused:
            decide(end_duty(ends_at=at(21)), given(register(), assign()))

        assert refused.value.field == "ends_at"
        assert "cannot lengthen it" in refused.value.reason

    def test_ending_it_before_it_starts_is_refused(self) -> None:
        with pytest.raises(Refusal, match="end it then to call it off"):
            decide(end_duty(ends_at=at(16)), given(register(), assign()))

    def test_an_unknown_duty_is_refused_naming_it(self) -> None:
        with pytest.raises(UnknownDuty) as refused:
            decide(end_duty("duty-9"), given(register(), assign()))

        assert (refused.value.field, refused.value.reason) == ("duty_id", "the officer has no duty duty-9")

    def test_an_unknown_officer_is_a_404(self) -> None:
        with pytest.raises(UnknownOfficer):
            decide(end_duty(), given())


class TestGivenADutyAlreadyEnded:
    def test_ending_it_again_changes_nothing_whenever_asked(self) -> None:
        state = given(register(), assign(), end_duty(ends_at=at(18)))

        assert decide(end_duty(ends_at=at(18)), state) == []
        assert decide(end_duty(ends_at=at(19)), state) == []

    def test_the_duty_now_ends_when_it_was_ended(self) -> None:
        duty = given(register(), assign(), end_duty(ends_at=at(18))).duty("duty-1")

        assert duty is not None
        assert (duty.ends_at, duty.planned_ends_at, duty.ended) == (at(18), at(20), True)
