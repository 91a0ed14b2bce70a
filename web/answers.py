"""The shapes of the services' answers that the pages read (extra fields are ignored)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    # Services may add fields (the contract grows by adding); the pages read only what they show.
    model_config = ConfigDict(extra="ignore")


class DiaryLineAnswer(_Answer):
    """One appointment of a projections diary answer."""

    appointment_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: str | None = None
    officer_id: str | None = None
    status: str
    case_reference: str | None = None
    thrive_risk: str | None = None


class DiaryAnswer(_Answer):
    """A projections diary answer."""

    appointments: list[DiaryLineAnswer]


class FreeSlotAnswer(_Answer):
    """One free slot of a booking answer."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: str | None = None


class HistoryAnswer(_Answer):
    """One event of a projections history answer."""

    event_id: str
    event_type: str
    actor: str | None = None
    occurred_at: AwareDatetime
    source: str = ""
    # How it reached the system (an older projections service does not say).
    channel: str | None = None
    data: dict[str, Any] = {}


class DutyAnswer(_Answer):
    """A duty as the roster answers it."""

    officer_id: str
    duty_id: str
    duty: str
    station_id: str | None = None
    district_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    planned_ends_at: AwareDatetime | None = None
    ended: bool = False
    end_reason: str | None = None


class WithdrawalAnswer(_Answer):
    """A withdrawal as the roster answers it."""

    officer_id: str
    withdrawal_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str
    duty_ids: list[str] = []


class OfficerAnswer(_Answer):
    """An officer as the roster answers it: collar number, name, home station, duties and withdrawals."""

    officer_id: str
    collar_number: str
    name: str | None = None
    station_id: str
    district_id: str
    duties: list[DutyAnswer] = []
    withdrawals: list[WithdrawalAnswer] = []


class WaitlistEntryAnswer(_Answer):
    """Where a waitlist entry stands, as booking answers it."""

    appointment_id: str
    status: str
    appointment_status: str | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    day: str | None = None
    when: str | None = None
    expires: str | None = None


class SpanAnswer(_Answer):
    """A span of time."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime


class CoverAnswer(_Answer):
    """One officer's appointment duty at a place, and the spans left once withdrawals are taken out."""

    officer_id: str
    collar_number: str
    name: str | None = None
    duty: DutyAnswer
    available: list[SpanAnswer] = []
    withdrawals: list[WithdrawalAnswer] = []


class PlaceRosterAnswer(_Answer):
    """Who is on appointment duty at a place on a day, as the roster answers it."""

    on_duty: list[CoverAnswer]


class CallerInClearAnswer(_Answer):
    """The caller of an officer's appointment, opened (all None once the caller has been erased)."""

    erased: bool = False
    name: str | None = None
    phone: str | None = None
    address: str | None = None


class BriefingAnswer(_Answer):
    """The briefing of an officer's appointment, opened (free texts None once the caller is erased)."""

    case_reference: str
    summary: str | None = None
    background: str | None = None
    vulnerability: str | None = None
    access_needs: str | None = None
    vulnerability_flags: list[str] = []
    thrive_risk: str
    preferred_contact: str | None = None
    language: str | None = None
    interpreter_needed: bool = False
    safe_to_text: bool = False
    safe_to_call: bool = False


class OfficersAppointmentAnswer(_Answer):
    """One appointment of an officer's day, as the projections answer it."""

    appointment_id: str
    place: str
    place_id: str
    district_id: str | None = None
    diary_car_id: str | None = None
    room_id: str | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    status: str
    caller: CallerInClearAnswer | None = None
    briefing: BriefingAnswer | None = None


class OfficersDayAnswer(_Answer):
    """An officer's appointments on a London day, briefed (projections' GET /officers/{id}/days/{day})."""

    officer_id: str
    collar_number: str | None = None
    appointments: list[OfficersAppointmentAnswer]


class KpiRowAnswer(_Answer):
    """One line of projections' GET /kpis: a district's (or the county's) week, or a go-live period."""

    district_id: str
    district_name: str
    period: str
    week: str | None = None
    from_: str = Field(alias="from")
    to: str
    goes_live: str | None = None
    booked: int
    held_at_booked_time: int
    attended: int
    reassigned: int
    rescheduled_by_police: int
    rescheduled_by_public: int
    cancelled_by_police: int
    cancelled_by_public: int
    missed_by_public: int
    officer_no_shows: int
    satisfaction_responses: int
    satisfaction_mean: float | None = None
    days_to_appointment_mean: float | None = None
    days_to_appointment_median: float | None = None
    capacity_offered: int = 0
    capacity_used: int = 0
    capacity_use: float | None = None


class AccessEntryAnswer(_Answer):
    """One entry of projections' GET /access-log (people by subject id only)."""

    at: AwareDatetime
    operation: str
    subject_id: str
    appointment_id: str | None = None
    by: str | None = None
    what: str
    channel: str
    recipient: str | None = None
    recorded_in: str


class FoundAppointmentAnswer(_Answer):
    """One appointment the projections' search found: where and when it is now, or a waiting-list entry."""

    appointment_id: str
    kind: str = "appointment"
    status: str
    case_reference: str | None = None
    place: str | None = None
    place_id: str | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    room_id: str | None = None
    officer_id: str | None = None


class FoundAnswer(_Answer):
    """The projections' answer to a search by case reference or phone."""

    appointments: list[FoundAppointmentAnswer]


class WentToAnswer(_Answer):
    """Where an appointment moved away from a day is now."""

    place: str
    place_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: str | None = None
    officer_id: str | None = None
    status: str


class MovedAwayLineAnswer(_Answer):
    """An appointment that was on a diary's day and is now elsewhere, and how it left."""

    appointment_id: str
    case_reference: str | None = None
    thrive_risk: str | None = None
    was_starts_at: AwareDatetime | None = None
    was_ends_at: AwareDatetime | None = None
    initiated_by: str | None = None
    reason: str | None = None
    caller_to_be_told: bool | None = None
    went_to: WentToAnswer


class MovedAwayAnswer(_Answer):
    """The projections' moved-away list of a diary's day."""

    moved_away: list[MovedAwayLineAnswer]
