"""How each of the roster's refusals is answered over HTTP: the statuses the contract gives."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest

from services.roster.adapters.refusals import status_of
from services.roster.domain import errors
from services.roster.domain.errors import (
    Conflict,
    DutyClash,
    Refusal,
    RosterRefused,
    Unknown,
    UnknownDuty,
    UnknownOfficer,
)
from services.roster.domain.state import RosteredDuty

HELD = RosteredDuty(
    "duty-1",
    "appointments",
    "cheshunt",
    "broxbourne",
    datetime(2026, 6, 15, 16, tzinfo=UTC),
    datetime(2026, 6, 15, 19, tzinfo=UTC),
    datetime(2026, 6, 15, 19, tzinfo=UTC),
)
# One of each refusal the domain raises, and the status the HTTP contract answers it with.
CONTRACT: list[tuple[RosterRefused, int]] = [
    (RosterRefused("starts_at", "not a time"), 422),
    (Refusal("station_id", "there is no station 'gotham'"), 422),
    (Unknown("officer_id", "nobody under that id"), 404),
    (UnknownOfficer("officer-9"), 404),
    (UnknownDuty("duty-9"), 404),
    (Conflict("officer_id", "already registered"), 409),
    (DutyClash("officer-4127", HELD), 409),
]


@pytest.mark.parametrize("refusal, status", CONTRACT, ids=[type(r).__name__ for r, _ in CONTRACT])
def test_each_refusal_is_answered_with_the_status_the_contract_gives(
    refusal: RosterRefused, status: int
) -> None:
    assert status_of(refusal) == status


def test_every_refusal_the_domain_defines_has_its_status_shown_above() -> None:
    defined = {
        cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, RosterRefused)
    }

    assert defined == {type(refusal) for refusal, _ in CONTRACT}


def test_a_refusal_the_adapter_has_never_heard_of_answers_as_its_kind_does() -> None:
    class WithdrawalReused(Conflict):
        pass

    assert status_of(WithdrawalReused("withdrawal_id", "used for another span")) == 409
