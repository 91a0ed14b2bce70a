"""Properties of an officer's roster under any sequence of duties, endings and withdrawals:
no officer ever holds two overlapping duties, and a command already satisfied yields no events."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from schemas.roster import Duty, WithdrawalReason
from services.roster.domain.commands import AssignDuty, Command, EndDuty, WithdrawOfficer
from services.roster.domain.decider import decide, fold
from services.roster.domain.errors import RosterRefused
from tests.unit.roster.builders import NOW, OFFICER, at, given, register

DUTY_IDS = st.sampled_from([f"duty-{n}" for n in range(6)])
WITHDRAWAL_IDS = st.sampled_from([f"w-{n}" for n in range(4)])
# Hours from Monday midnight (London), so duties cross into Tuesday too.
HOURS = st.integers(min_value=0, max_value=36)
LENGTHS = st.integers(min_value=-1, max_value=12)
DUTIES: st.SearchStrategy[Duty] = st.sampled_from(
    ["appointments", "diary-car", "emergency-response", "safer-neighbourhood"]
)
REASONS: st.SearchStrategy[WithdrawalReason] = st.sampled_from(
    ["sickness", "court", "major-incident", "training", "other"]
)
STATIONS = st.sampled_from(["cheshunt", "hitchin", "royston"])


def hour(n: int) -> datetime:
    return at(0) + timedelta(hours=n)


class OfficerRosterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = given(register())
        self.clock = NOW

    def apply(self, command: Command) -> None:
        try:
            events = decide(command, self.state)
        except RosterRefused:
            return
        self.state = fold(self.state, events)
        # Already satisfied now: the same command again changes nothing.
        assert decide(command, self.state) == []

    @rule(duty_id=DUTY_IDS, duty=DUTIES, station=STATIONS, start=HOURS, length=LENGTHS)
    def assign(self, duty_id: str, duty: Duty, station: str, start: int, length: int) -> None:
        self.apply(
            AssignDuty(
                officer_id=OFFICER,
                duty_id=duty_id,
                duty=duty,
                station_id=None if duty == "diary-car" else station,
                starts_at=hour(start),
                ends_at=hour(start + length),
                now=self.clock,
            )
        )

    @rule(duty_id=DUTY_IDS, at_hour=st.none() | HOURS)
    def end(self, duty_id: str, at_hour: int | None) -> None:
        ends_at = None if at_hour is None else hour(at_hour)
        self.apply(
            EndDuty(officer_id=OFFICER, duty_id=duty_id, ends_at=ends_at, reason="other", now=self.clock)
        )

    @rule(withdrawal_id=WITHDRAWAL_IDS, start=HOURS, length=LENGTHS, reason=REASONS)
    def withdraw(self, withdrawal_id: str, start: int, length: int, reason: WithdrawalReason) -> None:
        self.apply(
            WithdrawOfficer(
                officer_id=OFFICER,
                withdrawal_id=withdrawal_id,
                starts_at=hour(start),
                ends_at=hour(start + length),
                reason=reason,
                now=self.clock,
            )
        )

    @rule(hours=st.integers(min_value=1, max_value=12))
    def time_passes(self, hours: int) -> None:
        self.clock += timedelta(hours=hours)

    @invariant()
    def no_officer_holds_two_duties_at_once(self) -> None:
        duties = [d for d in self.state.duties if d.starts_at < d.ends_at]
        for i, first in enumerate(duties):
            for second in duties[i + 1 :]:
                assert not first.overlaps(second.starts_at, second.ends_at), (first, second)

    @invariant()
    def a_duty_only_ever_gets_shorter(self) -> None:
        for duty in self.state.duties:
            assert duty.starts_at <= duty.ends_at <= duty.planned_ends_at

    @invariant()
    def every_withdrawal_names_an_appointment_or_diary_car_duty(self) -> None:
        for withdrawal in self.state.withdrawals:
            named = [self.state.duty(d) for d in withdrawal.duty_ids]
            assert named and all(d is not None and d.gives_capacity for d in named)


OfficerRosterMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestOfficerRoster = OfficerRosterMachine.TestCase
