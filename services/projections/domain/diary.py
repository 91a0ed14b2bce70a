"""The diary read model as a pure fold: (entry or nothing, event) -> entry or nothing.

The same fold serves the live diary and the diary "as it stood" at any instant,
so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from schemas import booking as ev
from schemas.base import DomainEvent

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class DiaryEntry:
    """One appointment as the diary shows it.

    ``place_id`` names the diary as booking's streams and the diary routes do: the station's
    id, or the district's for its diary car (never the diary car's own id, ``diary_car_id``).
    """

    appointment_id: str
    place: str
    place_id: str
    district_id: str | None
    diary_car_id: str | None
    diary_stream: str
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

    @cached_property
    def local_day(self) -> date:
        """The Europe/London date the appointment falls on (worked out once: a fold asks it twice)."""
        return self.starts_at.astimezone(LONDON).date()


def apply(entry: DiaryEntry | None, event: DomainEvent) -> DiaryEntry | None:
    """The diary entry after ``event``; events the diary does not show leave it as it was."""
    match event:
        case ev.SlotBooked():
            return DiaryEntry(
                appointment_id=event.appointment_id, place="station", place_id=event.station_id,
                district_id=event.district_id, diary_car_id=None, diary_stream=event.diary,
                starts_at=event.starts_at, ends_at=event.ends_at, room_id=event.room_id,
                officer_id=event.officer_id, status="booked",
                case_reference=event.briefing.case_reference, thrive_risk=event.briefing.thrive_risk,
                initiated_by=event.initiated_by, booked_at=event.booked_at, updated_at=event.booked_at,
            )  # fmt: skip
        case ev.DiaryCarVisitBooked():
            return DiaryEntry(
                appointment_id=event.appointment_id, place="diary-car", place_id=event.district_id,
                district_id=event.district_id, diary_car_id=event.diary_car_id, diary_stream=event.diary,
                starts_at=event.window_starts_at, ends_at=event.window_ends_at, room_id=None,
                officer_id=event.officer_id, status="booked",
                case_reference=event.briefing.case_reference, thrive_risk=event.briefing.thrive_risk,
                initiated_by=event.initiated_by, booked_at=event.booked_at, updated_at=event.booked_at,
            )  # fmt: skip
        case ev.AppointmentOffered():
            # A freed slot held for a waiting caller: the diary shows it taken until it lapses.
            # A diary car's slot names its district (the station's district is not on the event).
            slot = event.slot
            return DiaryEntry(
                appointment_id=event.appointment_id, place=slot.place, place_id=slot.place_id,
                district_id=slot.place_id if slot.place == "diary-car" else None, diary_car_id=None,
                diary_stream=event.diary, starts_at=slot.starts_at, ends_at=slot.ends_at,
                room_id=slot.room_id, officer_id=event.officer_id, status="offered", case_reference=None,
                thrive_risk=None, initiated_by="police", booked_at=event.offered_at,
                updated_at=event.offered_at,
            )  # fmt: skip
        case _ if entry is None:
            return None
        case ev.OfferLapsed():
            return replace(entry, status="lapsed", updated_at=event.lapsed_at)
        case ev.AppointmentRescheduled():
            return replace(
                entry,
                diary_stream=event.diary,
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
