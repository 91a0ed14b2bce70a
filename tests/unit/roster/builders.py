"""Builders for officer roster tests: London times, commands with sensible defaults, given / when."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from schemas.roster import Duty, DutyEndReason, WithdrawalReason
from services.common.reference import County, load_county
from services.roster.domain.commands import AssignDuty, Command, EndDuty, RegisterOfficer, WithdrawOfficer
from services.roster.domain.decider import decide, fold, initial_state
from services.roster.domain.state import Officer

COUNTY: County = load_county()
LONDON = ZoneInfo("Europe/London")
# Monday 15 June 2026 (BST, UTC+1); the roster is drawn up the week before.
MONDAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
OFFICER = "officer-4127"


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    """A London wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def register(
    collar: str = "4127", station: str = "cheshunt", district: str | None = "broxbourne", now: datetime = NOW
) -> RegisterOfficer:
    """A supervisor registers PC 4127 at Cheshunt."""
    return RegisterOfficer(
        officer_id=OFFICER, collar_number=collar, station_id=station, district_id=district, now=now
    )


def assign(
    duty_id: str = "duty-1",
    start: int = 17,
    end: int = 20,
    *,
    duty: Duty = "appointments",
    station: str | None = "cheshunt",
    district: str | None = None,
    day: date = MONDAY,
    now: datetime = NOW,
) -> AssignDuty:
    """A supervisor puts the officer on a duty between two London hours of a day."""
    return AssignDuty(
        officer_id=OFFICER,
        duty_id=duty_id,
        duty=duty,
        station_id=station,
        district_id=district,
        starts_at=at(start, day=day),
        ends_at=at(end, day=day),
        now=now,
    )


def end_duty(
    duty_id: str = "duty-1",
    ends_at: datetime | None = None,
    now: datetime = NOW,
    reason: DutyEndReason = "other",
) -> EndDuty:
    """A supervisor ends a duty (at ``ends_at``, or now)."""
    return EndDuty(officer_id=OFFICER, duty_id=duty_id, ends_at=ends_at, reason=reason, now=now)


def withdraw(
    withdrawal_id: str = "w-1",
    start: int = 18,
    end: int = 19,
    reason: WithdrawalReason = "court",
    now: datetime = NOW,
) -> WithdrawOfficer:
    """A supervisor withdraws the officer between two London hours of Monday."""
    return WithdrawOfficer(
        officer_id=OFFICER,
        withdrawal_id=withdrawal_id,
        starts_at=at(start),
        ends_at=at(end),
        reason=reason,
        now=now,
    )


def given(*history: Command) -> Officer:
    """The officer after these commands were decided and their events applied, in order."""
    return after(initial_state(OFFICER, COUNTY), *history)


def after(state: Officer, *history: Command) -> Officer:
    """A given officer after these commands were decided and their events applied, in order."""
    for command in history:
        state = fold(state, decide(command, state))
    return state
