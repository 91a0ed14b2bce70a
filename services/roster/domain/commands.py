"""What an officer's roster can be asked to do. Time and ids come in on the command.

Ids are chosen by the caller (a supervisor's client may send its own), so the same
command sent twice names the same duty or withdrawal and is recognised as done.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from schemas.booking import Instant
from schemas.roster import Duty, DutyEndReason, WithdrawalReason


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegisterOfficer(_Command):
    """Put an officer on the roster at a home station (``district_id`` None means the station's).

    ``name`` None records no name (a client written before names); given again for an officer
    already registered the same way, a different name is recorded as their name from now on.
    """

    officer_id: str
    collar_number: str
    station_id: str
    district_id: str | None = None
    name: str | None = None
    now: Instant


class AssignDuty(_Command):
    """Put an officer on a duty for a span: a station's appointments, a diary car, or other work.

    ``station_id`` names the station for appointment duty (optional for emergency
    response and Safer Neighbourhood); ``district_id`` names the diary car's district
    (for the other duties it defaults to the station's, then the officer's).
    """

    officer_id: str
    duty_id: str
    duty: Duty
    station_id: str | None = None
    district_id: str | None = None
    starts_at: Instant
    ends_at: Instant
    now: Instant


class EndDuty(_Command):
    """End a duty, early or as planned; ``ends_at`` None means now (or as planned, if that is past)."""

    officer_id: str
    duty_id: str
    ends_at: Instant | None = None
    reason: DutyEndReason
    now: Instant


class WithdrawOfficer(_Command):
    """Take an officer off appointment or diary-car duty for a span, with the reason."""

    officer_id: str
    withdrawal_id: str
    starts_at: Instant
    ends_at: Instant
    reason: WithdrawalReason
    now: Instant


Command = RegisterOfficer | AssignDuty | EndDuty | WithdrawOfficer
