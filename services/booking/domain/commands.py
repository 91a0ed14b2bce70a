"""What a diary day can be asked to do. Time, ids and roster facts come in on the command.

Local times (``day`` + ``start``) are the Europe/London wall clock as the caller
says them ("Tuesday 14 June 2026, 5pm"); the decider turns them into UTC and
refuses a time that does not exist or happens twice at a clock change.

Roster facts: ``on_duty`` lists the officers on appointment duty at the station
(or on the district's diary car) during the day, each with the span they give,
already net of withdrawals and duties ended early. The handler builds it from the
roster read model at the moment of the command. ``None`` means the roster is not
consulted: the room alone gives capacity and no officer is allocated (the
foundation's path, before the roster service exists).
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.booking import (
    Briefing,
    CallerDetails,
    CancelReason,
    IncidentGrade,
    Initiator,
    Instant,
    MissedReason,
    Outcome,
    Place,
    ReassignReason,
    RescheduleReason,
)
from schemas.personal import Sealed


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OfficerOnDuty(_Command):
    """An officer on appointment (or diary-car) duty for a span of the day, UTC."""

    officer_id: str
    starts_at: Instant
    ends_at: Instant


OnDuty = tuple[OfficerOnDuty, ...] | None
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class BookStationSlot(_Command):
    """Book an hourly slot in a station's confidential room."""

    appointment_id: str
    request_id: str | None = None
    station_id: str
    day: date
    start: time
    incident_grade: IncidentGrade
    caller: CallerDetails
    briefing: Briefing
    on_duty: OnDuty = None
    now: Instant


class BookDiaryCarVisit(_Command):
    """Book a home visit by the district's diary car in the window starting at ``start``."""

    appointment_id: str
    request_id: str | None = None
    district_id: str
    day: date
    start: time
    incident_grade: IncidentGrade
    caller: CallerDetails
    briefing: Briefing
    on_duty: OnDuty = None
    now: Instant


class RescheduleAppointment(_Command):
    """Move an appointment to another slot or window on the same day."""

    appointment_id: str
    start: time
    initiated_by: Initiator
    reason: RescheduleReason
    note: Sealed | None = None
    on_duty: OnDuty = None
    now: Instant


class MoveAppointmentIn(_Command):
    """Take an appointment rescheduled from another day (step 1 of 2: claim the new time)."""

    appointment_id: str
    from_stream: str
    from_starts_at: Instant
    from_ends_at: Instant
    start: time
    initiated_by: Initiator
    reason: RescheduleReason
    note: Sealed | None = None
    # The caller's key id as the old day knew it, and the withdrawal that moved it (if any).
    subject_id: str | None = None
    withdrawal_id: str | None = None
    on_duty: OnDuty = None
    now: Instant


class MoveAppointmentOut(_Command):
    """Release an appointment now held on another day (step 2 of 2: free the old time)."""

    appointment_id: str
    to_stream: str
    to_starts_at: Instant
    initiated_by: Initiator
    reason: RescheduleReason
    now: Instant


class CancelAppointment(_Command):
    """Cancel an appointment, saying who asked and why."""

    appointment_id: str
    initiated_by: Initiator
    reason: CancelReason
    note: Sealed | None = None
    now: Instant


class RecordAttendance(_Command):
    """The officer met the caller; record the outcome."""

    appointment_id: str
    officer_id: str | None = None
    outcome: Outcome
    notes: Sealed | None = None
    now: Instant


class RecordNoShow(_Command):
    """The meeting did not happen: the public did not come, or no officer did."""

    appointment_id: str
    missed_by: Initiator
    reason: MissedReason
    note: Sealed | None = None
    now: Instant


class CoverWithdrawal(_Command):
    """An officer is withdrawn (or their duty ended early): keep their appointments' times.

    ``on_duty`` is the day's roster after the withdrawal.
    """

    withdrawal_id: str
    officer_id: str
    starts_at: Instant
    ends_at: Instant
    reason: ReassignReason
    on_duty: tuple[OfficerOnDuty, ...]
    now: Instant


class OfferFreedSlot(_Command):
    """Hold a free slot for a waiting caller (their appointment id) until ``expires_at``."""

    appointment_id: str
    start: time
    expires_at: Instant
    on_duty: OnDuty = None
    now: Instant


class LapseOffer(_Command):
    """Free a held slot whose offer was not taken in time."""

    appointment_id: str
    now: Instant


Command = (
    BookStationSlot
    | BookDiaryCarVisit
    | RescheduleAppointment
    | MoveAppointmentIn
    | MoveAppointmentOut
    | CancelAppointment
    | RecordAttendance
    | RecordNoShow
    | CoverWithdrawal
    | OfferFreedSlot
    | LapseOffer
)


def book(place: Place, place_id: str, **fields: Any) -> BookStationSlot | BookDiaryCarVisit:
    """The booking command for a station slot or a diary car's window, from the same fields."""
    if place == "station":
        return BookStationSlot(station_id=place_id, **fields)
    return BookDiaryCarVisit(district_id=place_id, **fields)
