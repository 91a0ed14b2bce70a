"""The officer decider: initial state, decide, evolve.

``decide`` is pure: no clock, no ids, no I/O, no files (the county comes in with the
initial state); it returns the new events (none when the command is already satisfied)
or raises a ``RosterRefused``. ``evolve`` only copies the state with the event's
change, and handles every ``OfficerEvent`` (mypy checks it does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import assert_never

from schemas.base import DomainEvent
from schemas.roster import DutyAssigned, DutyEnded, OfficerRegistered, OfficerRenamed, OfficerWithdrawn
from services.common.reference import County
from services.roster.domain import duties, withdrawals
from services.roster.domain.commands import AssignDuty, Command, EndDuty, RegisterOfficer, WithdrawOfficer
from services.roster.domain.state import Officer, Registration, RosteredDuty, Withdrawal
from services.roster.domain.state import OfficerEvent as OfficerEvent


def initial_state(officer_id: str, county: County) -> Officer:
    """An officer not yet on the roster, checked against the county's reference data in force."""
    return Officer(officer_id, county)


def event_of(event: DomainEvent) -> OfficerEvent:
    """This stream's event, narrowed; TypeError for an event that does not belong to it."""
    if isinstance(event, OfficerEvent):
        return event
    raise TypeError(f"{event.event_type} is not an event of an officer's roster")


def decide(command: Command, state: Officer) -> list[OfficerEvent]:
    """The events a command causes on an officer's roster; raises RosterRefused when refused."""
    match command:
        case RegisterOfficer():
            return duties.register(command, state)
        case AssignDuty():
            return duties.assign(command, state)
        case EndDuty():
            return duties.end(command, state)
        case WithdrawOfficer():
            return withdrawals.withdraw(command, state)
        case _:
            assert_never(command)


def evolve(state: Officer, event: OfficerEvent) -> Officer:
    """The officer after one of their events."""
    match event:
        case OfficerRegistered():
            registration = Registration(
                event.collar_number, event.station_id, event.district_id, event.registered_at, event.name
            )
            return replace(state, registration=registration)
        case OfficerRenamed():
            if state.registration is None:
                return state  # never decided so: a rename follows a registration
            return replace(state, registration=replace(state.registration, name=event.name))
        case DutyAssigned():
            duty = RosteredDuty(
                event.duty_id,
                event.duty,
                event.station_id,
                event.district_id,
                event.starts_at,
                event.ends_at,
                event.ends_at,
            )
            return replace(state, duties=(*state.duties, duty))
        case DutyEnded():
            return replace(
                state,
                duties=tuple(
                    replace(d, ends_at=event.ends_at, ended=True, end_reason=event.reason)
                    if d.duty_id == event.duty_id
                    else d
                    for d in state.duties
                ),
            )
        case OfficerWithdrawn():
            withdrawal = Withdrawal(
                event.withdrawal_id, event.starts_at, event.ends_at, event.reason, event.duty_ids
            )
            return replace(state, withdrawals=(*state.withdrawals, withdrawal))
        case _:
            assert_never(event)


def fold(state: Officer, events: Iterable[DomainEvent]) -> Officer:
    """The officer after all these events (as stored or as just decided), in order."""
    for event in events:
        state = evolve(state, event_of(event))
    return state
