"""The staff directory's decider: a person's name is recorded when new or changed, never twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.roster import StaffMemberNamed
from services.roster.domain.staff import NameStaffMember, StaffMember, decide, evolve, initial_state

NOW = datetime(2030, 9, 2, 8, 0, tzinfo=UTC)
SUBJECT = "ct-ana"


def named(name: str, role: str = "call-taker") -> NameStaffMember:
    return NameStaffMember.model_validate({"subject": SUBJECT, "role": role, "name": name, "now": NOW})


def given(*commands: NameStaffMember) -> StaffMember:
    state = initial_state(SUBJECT)
    for command in commands:
        for event in decide(command, state):
            state = evolve(state, event)
    return state


def test_a_first_sign_in_records_the_name_and_role() -> None:
    assert decide(named("Ana Kowalska"), given()) == [
        StaffMemberNamed(subject=SUBJECT, role="call-taker", name="Ana Kowalska", named_at=NOW)
    ]


def test_the_same_name_again_records_nothing() -> None:
    assert decide(named("Ana Kowalska"), given(named("Ana Kowalska"))) == []


def test_a_changed_name_or_role_is_recorded() -> None:
    state = given(named("Ana Kowalska"))

    assert [e.name for e in decide(named("Ana Reid"), state)] == ["Ana Reid"]
    assert [e.role for e in decide(named("Ana Kowalska", "supervisor"), state)] == ["supervisor"]
    assert given(named("Ana Kowalska"), named("Ana Reid")) == StaffMember(SUBJECT, "Ana Reid", "call-taker")


def test_the_event_holds_no_empty_name_and_no_system_role() -> None:
    with pytest.raises(ValidationError):
        StaffMemberNamed(subject=SUBJECT, role="call-taker", name="", named_at=NOW)
    with pytest.raises(ValidationError):
        StaffMemberNamed.model_validate(
            {"subject": SUBJECT, "role": "gateway", "name": "Notify", "named_at": NOW}
        )
