"""The diary read model as a pure fold: (entry or nothing, event) -> entry or nothing.

The same fold serves the live diary and the diary "as it stood" at any instant,
so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from schemas import booking as ev
from schemas.base import DomainEvent

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class DiaryEntry:
    """One appointment as the diary shows it."""

    appointment_id: str
    place: str
    place_id: str
    district_id: str | None
    diary: str
    starts_at: datetime
    ends_at: datetime
    room_id: str | None
    officer_id: str | None
    status: str
    case_reference: str | None
    thrive_risk: str | None
    initiated_by: str | None
    booked_at: datetime
    updated_at: datetime

    @property
    def local_day(self) -> date:
        """The Europe/London date the appointment falls on."""
        return self.starts_at.astimezone(LONDON).date()


def apply(entry: DiaryEntry | None, event: DomainEvent) -> DiaryEntry | None:
    """The diary entry after ``event``; events the diary does not show leave it as it was."""
    match event:
        case ev.SlotBooked():
            return DiaryEntry(
                event.appointment_id,
                "station",
                event.station_id,
                event.district_id,
                event.diary,
                event.starts_at,
                event.ends_at,
                event.room_id,
                event.officer_id,
                "booked",
                event.briefing.case_reference,
                event.briefing.thrive_risk,
                event.initiated_by,
                event.booked_at,
                event.booked_at,
            )
        case ev.DiaryCarVisitBooked():
            return DiaryEntry(
                event.appointment_id,
                "diary-car",
                event.diary_car_id,
                event.district_id,
                event.diary,
                event.window_starts_at,
                event.window_ends_at,
                None,
                event.officer_id,
                "booked",
                event.briefing.case_reference,
                event.briefing.thrive_risk,
                event.initiated_by,
                event.booked_at,
                event.booked_at,
            )
        case ev.AppointmentOffered():
            # A freed slot held for a waiting caller: the diary shows it taken until it lapses.
            slot = event.slot
            return DiaryEntry(
                event.appointment_id, slot.place, slot.place_id, None, event.diary, slot.starts_at,
                slot.ends_at, slot.room_id, event.officer_id, "offered", None, None, "police",
                event.offered_at, event.offered_at,
            )  # fmt: skip
        case _ if entry is None:
            return None
        case ev.OfferLapsed():
            return replace(entry, status="lapsed", updated_at=event.lapsed_at)
        case ev.AppointmentRescheduled():
            return replace(
                entry,
                diary=event.diary,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                room_id=event.room_id,
                officer_id=event.officer_id,
                status="rescheduled",
                initiated_by=event.initiated_by,
                updated_at=event.rescheduled_at,
            )
        case ev.AppointmentReassigned():
            return replace(entry, officer_id=event.to_officer_id, updated_at=event.reassigned_at)
        case ev.AppointmentDisplaced():
            return replace(
                entry, officer_id=None, status="awaiting-reschedule", updated_at=event.displaced_at
            )
        case ev.AppointmentCancelled():
            return replace(
                entry, status="cancelled", initiated_by=event.initiated_by, updated_at=event.cancelled_at
            )
        case ev.AppointmentAttended():
            return replace(entry, status="attended", updated_at=event.recorded_at)
        case ev.AppointmentMissed():
            return replace(entry, status=f"missed-by-{event.missed_by}", updated_at=event.recorded_at)
        case _:
            return entry
