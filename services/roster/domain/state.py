"""One officer on the roster: home station, duties and withdrawals.

The aggregate whose stream is ``officer:{officer_id}``. Every duty and withdrawal of
one officer lives in that one stream, so two supervisors assigning clashing duties
at the same moment append to the same stream and the second is decided again
against the first (the event store's unique (stream, version)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.roster import (
    Duty,
    DutyAssigned,
    DutyEnded,
    DutyEndReason,
    OfficerRegistered,
    OfficerRenamed,
    OfficerWithdrawn,
    WithdrawalReason,
)
from services.common.reference import County

# Every event an officer's stream holds; ``evolve`` must handle each (mypy checks it does).
OfficerEvent = OfficerRegistered | OfficerRenamed | DutyAssigned | DutyEnded | OfficerWithdrawn

# Only these duties give appointment capacity; the others are why an officer is not free.
APPOINTMENT_DUTIES: frozenset[Duty] = frozenset({"appointments", "diary-car"})


def stream_id(officer_id: str) -> str:
    """The event-store stream of one officer."""
    return f"officer:{officer_id}"


@dataclass(frozen=True)
class Registration:
    """Who the officer is on the roster: collar number, home station and name (None: not recorded)."""

    collar_number: str
    station_id: str
    district_id: str
    registered_at: datetime
    name: str | None = None


@dataclass(frozen=True)
class RosteredDuty:
    """One duty as assigned, and when it really ends (earlier when ended early)."""

    duty_id: str
    duty: Duty
    station_id: str | None
    district_id: str
    starts_at: datetime
    planned_ends_at: datetime
    ends_at: datetime
    ended: bool = False
    end_reason: DutyEndReason | None = None

    @property
    def gives_capacity(self) -> bool:
        """Whether the public can be booked into this duty (appointments or diary car)."""
        return self.duty in APPOINTMENT_DUTIES

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        """Whether the duty, as it now stands, holds any part of [starts_at, ends_at)."""
        return self.starts_at < ends_at and starts_at < self.ends_at and self.starts_at < self.ends_at

    @property
    def place(self) -> str:
        """Where the duty is, in a supervisor's words."""
        if self.duty == "appointments":
            return f"appointment duty at {self.station_id}"
        if self.duty == "diary-car":
            return f"the {self.district_id} diary car"
        return f"{self.duty.replace('-', ' ')} in {self.district_id}"


@dataclass(frozen=True)
class Withdrawal:
    """A span the officer was taken off appointment or diary-car duty, and why."""

    withdrawal_id: str
    starts_at: datetime
    ends_at: datetime
    reason: WithdrawalReason
    duty_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Officer:
    """The state of one officer's stream; ``county`` is the reference data duties are checked against."""

    officer_id: str
    county: County
    registration: Registration | None = None
    duties: tuple[RosteredDuty, ...] = ()
    withdrawals: tuple[Withdrawal, ...] = ()

    def duty(self, duty_id: str) -> RosteredDuty | None:
        """The duty with this id, if the officer has it."""
        return next((d for d in self.duties if d.duty_id == duty_id), None)

    def withdrawal(self, withdrawal_id: str) -> Withdrawal | None:
        """The withdrawal with this id, if recorded."""
        return next((w for w in self.withdrawals if w.withdrawal_id == withdrawal_id), None)

    def clashes(self, starts_at: datetime, ends_at: datetime, but: str | None = None) -> list[RosteredDuty]:
        """The duties (other than ``but``) that hold any part of [starts_at, ends_at)."""
        return [d for d in self.duties if d.duty_id != but and d.overlaps(starts_at, ends_at)]
