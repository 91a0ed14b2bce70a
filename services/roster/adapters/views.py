"""How the roster answers over HTTP: officers, duties, withdrawals, and who covers a place."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.booking import Place
from schemas.roster import Duty, DutyEndReason, WithdrawalReason
from services.common.london import local, spoken_day, spoken_range
from services.roster.domain.cover import Cover, Span
from services.roster.domain.state import Officer, RosteredDuty, Withdrawal


class DutyView(BaseModel):
    """A duty as it stands, with when it is in London time."""

    officer_id: str
    duty_id: str
    duty: Duty
    station_id: str | None
    district_id: str
    starts_at: datetime
    ends_at: datetime
    planned_ends_at: datetime
    ended: bool
    end_reason: DutyEndReason | None
    day: str
    when: str


class WithdrawalView(BaseModel):
    """A withdrawal from appointment or diary-car duty."""

    officer_id: str
    withdrawal_id: str
    starts_at: datetime
    ends_at: datetime
    reason: WithdrawalReason
    duty_ids: list[str]
    day: str
    when: str


class OfficerView(BaseModel):
    """An officer on the roster with every duty and withdrawal."""

    officer_id: str
    collar_number: str
    name: str | None = Field(description="The officer's name; null when none was recorded.")
    station_id: str
    district_id: str
    registered_at: datetime
    duties: list[DutyView]
    withdrawals: list[WithdrawalView]


class SpanView(BaseModel):
    """A span an officer can really take appointments."""

    starts_at: datetime
    ends_at: datetime
    when: str


class CoverView(BaseModel):
    """One officer's duty at the place, and the spans left once withdrawals are taken out."""

    officer_id: str
    collar_number: str
    name: str | None = Field(description="The officer's name; null when none was recorded.")
    duty: DutyView
    available: list[SpanView]
    withdrawals: list[WithdrawalView]


class PlaceRoster(BaseModel):
    """Who is on appointment duty at a station, or on a district's diary car, on one day."""

    place: Place
    place_id: str
    day: str
    on_duty: list[CoverView]


def duty_view(officer_id: str, duty: RosteredDuty) -> DutyView:
    """A duty for people to read."""
    return DutyView(
        officer_id=officer_id,
        duty_id=duty.duty_id,
        duty=duty.duty,
        station_id=duty.station_id,
        district_id=duty.district_id,
        starts_at=duty.starts_at,
        ends_at=duty.ends_at,
        planned_ends_at=duty.planned_ends_at,
        ended=duty.ended,
        end_reason=duty.end_reason,
        day=spoken_day(local(duty.starts_at).date()),
        when=spoken_range(duty.starts_at, duty.ends_at),
    )


def withdrawal_view(officer_id: str, withdrawal: Withdrawal) -> WithdrawalView:
    """A withdrawal for people to read."""
    return WithdrawalView(
        officer_id=officer_id,
        withdrawal_id=withdrawal.withdrawal_id,
        starts_at=withdrawal.starts_at,
        ends_at=withdrawal.ends_at,
        reason=withdrawal.reason,
        duty_ids=list(withdrawal.duty_ids),
        day=spoken_day(local(withdrawal.starts_at).date()),
        when=spoken_range(withdrawal.starts_at, withdrawal.ends_at),
    )


def officer_view(officer: Officer) -> OfficerView:
    """An officer for people to read; only registered officers are ever shown."""
    assert officer.registration is not None, "an unregistered officer is a 404, not a view"
    held = officer.registration
    return OfficerView(
        officer_id=officer.officer_id,
        collar_number=held.collar_number,
        name=held.name,
        station_id=held.station_id,
        district_id=held.district_id,
        registered_at=held.registered_at,
        duties=[duty_view(officer.officer_id, d) for d in sorted(officer.duties, key=lambda d: d.starts_at)],
        withdrawals=[withdrawal_view(officer.officer_id, w) for w in officer.withdrawals],
    )


def _span(span: Span) -> SpanView:
    return SpanView(starts_at=span[0], ends_at=span[1], when=spoken_range(*span))


def cover_view(cover: Cover) -> CoverView:
    """One officer's cover of a place for people to read."""
    return CoverView(
        officer_id=cover.officer_id,
        collar_number=cover.collar_number,
        name=cover.name,
        duty=duty_view(cover.officer_id, cover.duty),
        available=[_span(s) for s in cover.available],
        withdrawals=[withdrawal_view(cover.officer_id, w) for w in cover.withdrawals],
    )
