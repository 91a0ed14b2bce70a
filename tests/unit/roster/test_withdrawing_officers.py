"""Withdrawing an officer from appointment or diary-car duty for a span, with the reason."""

from __future__ import annotations

import pytest

from schemas.roster import OfficerWithdrawn
from services.roster.domain.decider import decide
from services.roster.domain.errors import Conflict, Refusal, UnknownOfficer
from tests.unit.roster.builders import NOW, OFFICER, assign, at, end_duty, given, register, withdraw


class TestGivenAnOfficerOnAppointmentDuty:
    def test_a_withdrawal_for_part_of_the_duty_names_the_duty_and_the_reason(self) -> None:
        events = decide(withdraw(reason="sickness"), given(register(), assign()))

        assert events == [
            OfficerWithdrawn(
                officer_id=OFFICER,
                withdrawal_id="w-1",
                starts_at=at(18),
                ends_at=at(19),
                reason="sickness",
                withdrawn_at=NOW,
                duty_ids=("duty-1",),
            )
        ]
        assert events[0].stream_key() == OFFICER

    def test_a_withdrawal_over_two_duties_names_both(self) -> None:
        state = given(
            register(),
            assign("car", 8, 14, duty="diary-car", station=None),
            assign("station", 17, 20),
        )

        withdrawn = decide(withdraw(start=12, end=18), state)[0]

        assert isinstance(withdrawn, OfficerWithdrawn)
        assert withdrawn.duty_ids == ("car", "station")

    def test_the_same_withdrawal_again_changes_nothing(self) -> None:
        assert decide(withdraw(), given(register(), assign(), withdraw())) == []

    def test_a_withdrawal_id_reused_for_another_span_is_a_conflict(self) -> None:
        with pytest.raises(Conflict) as refused:
            decide(withdraw(start=17), given(register(), assign(), withdraw()))

        assert refused.value.field == "withdrawal_id"

    def test_a_withdrawal_that_ends_before_it_starts_is_refused(self) -> None:
        with pytest.raises(Refusal) as refused:
            decide(withdraw(start=19, end=18), given(register(), assign()))

        assert refused.value.field == "ends_at"

    def test_a_withdrawal_outside_the_duty_is_refused(self) -> None:
        with pytest.raises(Refusal) as refused:
            decide(withdraw(start=9, end=12), given(register(), assign()))

        assert refused.value.field == "starts_at"
        assert "not on appointment or diary-car duty" in refused.value.reason

    def test_a_withdrawal_after_the_duty_was_ended_early_is_refused(self) -> None:
        state = given(register(), assign(), end_duty(ends_at=at(18)))

        with pytest.raises(Refusal):
            decide(withdraw(start=18, end=20), state)


class TestGivenAnOfficerOnDutiesThatGiveNoAppointments:
    @pytest.mark.parametrize("duty", ["emergency-response", "safer-neighbourhood"])
    def test_there_is_nothing_to_withdraw_them_from(self, duty: str) -> None:
        state = given(register(), assign(duty=duty, station=None, start=17, end=20))  # type: ignore[arg-type]

        with pytest.raises(Refusal):
            decide(withdraw(), state)


def test_an_unregistered_officer_cannot_be_withdrawn() -> None:
    with pytest.raises(UnknownOfficer):
        decide(withdraw(), given())
