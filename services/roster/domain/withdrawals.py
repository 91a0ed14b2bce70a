"""Withdrawing an officer from appointment or diary-car duty for a span."""

from __future__ import annotations

from schemas.roster import OfficerWithdrawn
from services.roster.domain.commands import WithdrawOfficer
from services.roster.domain.errors import Conflict, Refusal, UnknownOfficer
from services.roster.domain.state import Officer, OfficerEvent


def withdraw(command: WithdrawOfficer, state: Officer) -> list[OfficerEvent]:
    """Record a withdrawal from appointment or diary-car duty; the same one again changes nothing."""
    if state.registration is None:
        raise UnknownOfficer(state.officer_id)
    existing = state.withdrawal(command.withdrawal_id)
    if existing is not None:
        if (existing.starts_at, existing.ends_at, existing.reason) == (
            command.starts_at,
            command.ends_at,
            command.reason,
        ):
            return []
        raise Conflict(
            "withdrawal_id",
            f"withdrawal {command.withdrawal_id} is already recorded for another span or reason;"
            " give a new withdrawal a new id",
        )
    if command.ends_at <= command.starts_at:
        raise Refusal("ends_at", "a withdrawal must end after it starts")
    # Emergency response and Safer Neighbourhood give no appointments, so there is
    # nothing to withdraw the officer from there.
    affected = [
        d for d in state.duties if d.gives_capacity and d.overlaps(command.starts_at, command.ends_at)
    ]
    if not affected:
        raise Refusal(
            "starts_at",
            f"the officer is not on appointment or diary-car duty at any time from"
            f" {command.starts_at:%Y-%m-%d %H:%M} to {command.ends_at:%Y-%m-%d %H:%M} UTC",
        )
    return [
        OfficerWithdrawn(
            officer_id=state.officer_id,
            withdrawal_id=command.withdrawal_id,
            starts_at=command.starts_at,
            ends_at=command.ends_at,
            reason=command.reason,
            withdrawn_at=command.now,
            duty_ids=tuple(d.duty_id for d in affected),
        )
    ]
