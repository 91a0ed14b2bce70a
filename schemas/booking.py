"""The booking service's published events, on ``booking.events``, keyed by appointment id.

Events are a storage format: each changes only by adding a new version (a new
class with the same ``event_type`` and a higher ``schema_version``, plus an
upcaster); stored history is never rewritten. Times are UTC instants. Personal
data (names, phone numbers, addresses, free text) appears only ``Sealed`` with the
data subject's key, so erasing the key erases the person from every copy.

Streams: a station's day is ``station:{station_id}:{YYYY-MM-DD}``, a diary car's day
``diary-car:{district_id}:{YYYY-MM-DD}`` (the Europe/London date), a waitlist
``waitlist:{place}:{place_id}``, a request ``request:{request_id}``; ``diary`` on each
event names the stream it belongs to, whichever kind. A ``place_id`` is the station's id,
or for a diary car its district's id (the diary car's own id is ``diary_car_id``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from schemas.base import DomainEvent, event, upcaster
from schemas.personal import Sealed
from schemas.topics import BOOKING_EVENTS


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Instant = Annotated[AwareDatetime, AfterValidator(_utc)]
Initiator = Literal["police", "public"]
Place = Literal["station", "diary-car"]
PLACE_ID = "The station's id, or the district's id for its diary car (never the diary car's own id)."
# Incident grades from the control room; urgent and priority keep the emergency response.
IncidentGrade = Literal["urgent", "priority", "scheduled"]
ThriveRisk = Literal["high", "medium", "low"]
VulnerabilityFlag = Literal[
    "domestic-abuse",
    "child",
    "older-person",
    "mental-health",
    "learning-disability",
    "physical-disability",
    "hearing",
    "sight",
    "repeat-victim",
    "hate-crime",
]
CancelReason = Literal[
    "no-longer-needed",
    "caller-unavailable",
    "resolved-another-way",
    "duplicate",
    "officer-withdrawn",
    "station-closed",
    "cancelled-by-text",
    "other",
]
# Why staff moved, reassigned or missed an appointment: codes, never free text (a note, when
# needed, goes sealed under the caller's key). Versions 1 of these events held free text.
RescheduleReason = Literal[
    "caller-asked",
    "officer-withdrawn",
    "duty-ended-early",
    "officer-unavailable",
    "room-unavailable",
    "station-closed",
    "other",
]
# Why another officer takes an appointment, or why it lost its officer.
ReassignReason = Literal["officer-withdrawn", "duty-ended-early", "other"]
MissedReason = Literal[
    "did-not-attend",
    "arrived-late",
    "not-at-address",
    "officer-called-away",
    "officer-unavailable",
    "other",
]
Outcome = Literal[
    "crime-recorded",
    "advice-given",
    "referred",
    "further-appointment",
    "no-further-action",
]
RefusalCode = Literal[
    "emergency-response",
    "not-live",
    "past",
    "closed",
    "outside-hours",
    "clock-change",
    "slot-taken",
    "request-reused",
    "invalid",
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CallerDetails(_Part):
    """Who the appointment is with, sealed under their own key (subject_id)."""

    subject_id: str
    name: Sealed
    phone: Sealed | None = None
    address: Sealed | None = None


class Briefing(_Part):
    """Everything the attending officer needs to arrive up to speed."""

    case_reference: str = Field(min_length=1, max_length=64)
    summary: Sealed
    background: Sealed | None = None
    vulnerability: Sealed | None = None
    access_needs: Sealed | None = None
    vulnerability_flags: tuple[VulnerabilityFlag, ...] = ()
    preferred_contact: Literal["sms", "phone", "none"] = "sms"
    # BCP 47 tag of the language the caller wants to use.
    language: str = "en"
    interpreter_needed: bool = False
    thrive_risk: ThriveRisk
    # A domestic-abuse victim's phone may be watched: never text or call unless safe.
    safe_to_text: bool
    safe_to_call: bool


class Slot(_Part):
    """A bookable time at a station (with a room) or in a diary car's window."""

    place: Place
    place_id: str = Field(description=PLACE_ID)
    starts_at: Instant
    ends_at: Instant
    room_id: str | None = None


class _BookingEvent(DomainEvent):
    topic: ClassVar[str] = BOOKING_EVENTS

    appointment_id: str
    diary: str = Field(
        description="The stream the event belongs to: a diary day (station:{station_id}:{day} or"
        " diary-car:{district_id}:{day}), a waitlist (waitlist:{place}:{place_id}) or a request"
        " (request:{request_id})."
    )

    def stream_key(self) -> str:
        """The Kafka key: the appointment id."""
        return self.appointment_id


@event
class AppointmentRequested(_BookingEvent):
    """A request for an appointment reached booking (from a call taker or the control room)."""

    event_type: ClassVar[str] = "AppointmentRequested"

    request_id: str
    place: Place
    place_id: str = Field(description=PLACE_ID)
    day: date
    incident_grade: IncidentGrade
    caller: CallerDetails
    briefing: Briefing
    requested_at: Instant


@event
class SlotBooked(_BookingEvent):
    """A station appointment: a room, an officer (when the roster is consulted), a slot."""

    event_type: ClassVar[str] = "SlotBooked"

    request_id: str | None = None
    station_id: str
    district_id: str
    room_id: str
    officer_id: str | None
    starts_at: Instant
    ends_at: Instant
    caller: CallerDetails
    briefing: Briefing
    initiated_by: Initiator = "public"
    booked_at: Instant


@event
class DiaryCarVisitBooked(_BookingEvent):
    """A home visit by the district's diary car in a window."""

    event_type: ClassVar[str] = "DiaryCarVisitBooked"

    request_id: str | None = None
    district_id: str
    diary_car_id: str = Field(description="The diary car's own id: the diary car of district_id.")
    officer_id: str | None
    window_starts_at: Instant
    window_ends_at: Instant
    caller: CallerDetails
    briefing: Briefing
    initiated_by: Initiator = "public"
    booked_at: Instant


def code_of(text: object, codes: Any, fallback: str) -> object:
    """A version-1 free-text reason read as a code: itself when it is one, "officer withdrawn:
    ..." and "duty ended early: ..." as their codes, anything else as ``fallback``. The text
    itself is not carried forward: version 2 keeps no staff free text in clear."""
    if not isinstance(text, str):
        return text  # not version 1's shape either: validation says what is wrong
    known: tuple[str, ...] = get_args(codes)
    said = text.strip().lower()
    if said in known:
        return said
    for prefix in ("officer withdrawn", "duty ended early"):
        code = prefix.replace(" ", "-")
        if said.startswith(prefix) and code in known:
            return code
    return fallback


@event
class AppointmentRescheduledV1(_BookingEvent):
    """The appointment moved to a new time; stored in the stream of its new day."""

    # Version 1: the reason was free text, in clear; version 2 holds a code.

    model_config = ConfigDict(title="AppointmentRescheduled")
    event_type: ClassVar[str] = "AppointmentRescheduled"

    from_diary: str = Field(
        description="The stream of the day it moved from; the same as diary when it moved within the day."
    )
    from_starts_at: Instant
    from_ends_at: Instant
    starts_at: Instant
    ends_at: Instant
    room_id: str | None
    officer_id: str | None
    initiated_by: Initiator
    reason: str
    # Set when the police moved it: the caller has not agreed the new time yet.
    caller_to_be_told: bool
    rescheduled_at: Instant


@event
class AppointmentRescheduled(_BookingEvent):
    """The appointment moved to a new time; stored in the stream of its new day."""

    event_type: ClassVar[str] = "AppointmentRescheduled"
    schema_version: ClassVar[int] = 2

    from_diary: str = Field(
        description="The stream of the day it moved from; the same as diary when it moved within the day."
    )
    from_starts_at: Instant
    from_ends_at: Instant
    starts_at: Instant
    ends_at: Instant
    room_id: str | None
    officer_id: str | None
    initiated_by: Initiator
    reason: RescheduleReason
    note: Sealed | None = Field(default=None, description="Staff's own words, sealed under the caller's key.")
    # Set when the police moved it: the caller has not agreed the new time yet.
    caller_to_be_told: bool
    rescheduled_at: Instant
    subject_id: str | None = Field(
        default=None, description="The caller's key id (as in SlotBooked's caller), kept as it moves."
    )
    withdrawal_id: str | None = Field(
        default=None, description="The roster's withdrawal that moved it, if one did."
    )


@upcaster("AppointmentRescheduled", 1)
def _rescheduled_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    fallback = "caller-asked" if data.get("initiated_by") == "public" else "other"
    return data | {"reason": code_of(data.get("reason"), RescheduleReason, fallback)}


@event
class AppointmentMovedOutV1(_BookingEvent):
    """Booking-internal: the appointment left this day for another (its AppointmentRescheduled
    is in the new day's stream); frees the room and officer here."""

    # Version 1: the reason was free text, in clear; version 2 holds a code.

    model_config = ConfigDict(title="AppointmentMovedOut")
    event_type: ClassVar[str] = "AppointmentMovedOut"

    to_diary: str = Field(description="The stream of the day it moved to.")
    starts_at: Instant
    initiated_by: Initiator
    reason: str
    moved_at: Instant


@event
class AppointmentMovedOut(_BookingEvent):
    """Booking-internal: the appointment left this day for another (its AppointmentRescheduled
    is in the new day's stream); frees the room and officer here."""

    event_type: ClassVar[str] = "AppointmentMovedOut"
    schema_version: ClassVar[int] = 2

    to_diary: str = Field(description="The stream of the day it moved to.")
    starts_at: Instant
    initiated_by: Initiator
    reason: RescheduleReason
    moved_at: Instant


@upcaster("AppointmentMovedOut", 1)
def _moved_out_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    fallback = "caller-asked" if data.get("initiated_by") == "public" else "other"
    return data | {"reason": code_of(data.get("reason"), RescheduleReason, fallback)}


@event
class AppointmentReassignedV1(_BookingEvent):
    """Another officer takes the appointment; the time holds."""

    # Version 1: the reason was free text, in clear; version 2 holds a code.

    model_config = ConfigDict(title="AppointmentReassigned")
    event_type: ClassVar[str] = "AppointmentReassigned"

    from_officer_id: str | None
    to_officer_id: str
    starts_at: Instant
    ends_at: Instant
    withdrawal_id: str | None = None
    initiated_by: Initiator = "police"
    reason: str
    reassigned_at: Instant


@event
class AppointmentReassigned(_BookingEvent):
    """Another officer takes the appointment; the time holds."""

    event_type: ClassVar[str] = "AppointmentReassigned"
    schema_version: ClassVar[int] = 2

    from_officer_id: str | None
    to_officer_id: str
    starts_at: Instant
    ends_at: Instant
    withdrawal_id: str | None = None
    initiated_by: Initiator = "police"
    reason: ReassignReason
    reassigned_at: Instant


@upcaster("AppointmentReassigned", 1)
def _reassigned_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data | {"reason": code_of(data.get("reason"), ReassignReason, "other")}


@event
class AppointmentDisplacedV1(_BookingEvent):
    """Booking-internal: its officer was withdrawn and nobody else is free on this day;
    the room and officer are released until it is moved to another day."""

    # Version 1: the reason was free text, in clear; version 2 holds a code.

    model_config = ConfigDict(title="AppointmentDisplaced")
    event_type: ClassVar[str] = "AppointmentDisplaced"

    officer_id: str
    starts_at: Instant
    withdrawal_id: str
    initiated_by: Initiator = "police"
    reason: str
    displaced_at: Instant


@event
class AppointmentDisplaced(_BookingEvent):
    """Booking-internal: its officer was withdrawn and nobody else is free on this day;
    the room and officer are released until it is moved to another day."""

    event_type: ClassVar[str] = "AppointmentDisplaced"
    schema_version: ClassVar[int] = 2

    officer_id: str
    starts_at: Instant
    withdrawal_id: str
    initiated_by: Initiator = "police"
    reason: ReassignReason
    displaced_at: Instant


@upcaster("AppointmentDisplaced", 1)
def _displaced_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data | {"reason": code_of(data.get("reason"), ReassignReason, "other")}


@event
class AppointmentCancelled(_BookingEvent):
    """The appointment will not happen; by the police or the public, with a reason."""

    event_type: ClassVar[str] = "AppointmentCancelled"

    starts_at: Instant
    initiated_by: Initiator
    reason: CancelReason
    note: Sealed | None = None
    cancelled_at: Instant


@event
class AppointmentAttended(_BookingEvent):
    """The meeting took place; the officer records the outcome."""

    event_type: ClassVar[str] = "AppointmentAttended"

    officer_id: str | None
    starts_at: Instant
    outcome: Outcome
    notes: Sealed | None = None
    recorded_at: Instant


@event
class AppointmentMissedV1(_BookingEvent):
    """The meeting did not take place: the public did not come, or no officer did."""

    # Version 1: the reason was free text, in clear; version 2 holds a code.

    model_config = ConfigDict(title="AppointmentMissed")
    event_type: ClassVar[str] = "AppointmentMissed"

    starts_at: Instant
    missed_by: Initiator
    reason: str
    recorded_at: Instant


@event
class AppointmentMissed(_BookingEvent):
    """The meeting did not take place: the public did not come, or no officer did."""

    event_type: ClassVar[str] = "AppointmentMissed"
    schema_version: ClassVar[int] = 2

    starts_at: Instant
    missed_by: Initiator
    reason: MissedReason
    note: Sealed | None = Field(default=None, description="Staff's own words, sealed under the caller's key.")
    recorded_at: Instant


@upcaster("AppointmentMissed", 1)
def _missed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data | {"reason": code_of(data.get("reason"), MissedReason, "other")}


@event
class RequestRefused(_BookingEvent):
    """A request was not booked: the field, the reason, and any alternatives offered."""

    event_type: ClassVar[str] = "RequestRefused"

    request_id: str
    code: RefusalCode
    field: str
    reason: str
    alternatives: tuple[Slot, ...] = ()
    refused_at: Instant


@event
class WaitlistJoined(_BookingEvent):
    """Nothing suited: the caller waits for a place and a date range (diary = waitlist stream)."""

    event_type: ClassVar[str] = "WaitlistJoined"

    place: Place
    place_id: str = Field(description=PLACE_ID)
    from_day: date
    to_day: date
    caller: CallerDetails
    briefing: Briefing
    joined_at: Instant
    # How long an offer to this caller stands, when not the service's usual hold (seconds).
    offer_hold_seconds: int | None = None


@event
class AppointmentOffered(_BookingEvent):
    """A freed slot is held for the first caller waiting, until the offer lapses."""

    event_type: ClassVar[str] = "AppointmentOffered"

    slot: Slot
    officer_id: str | None
    expires_at: Instant
    offered_at: Instant


@event
class OfferLapsed(_BookingEvent):
    """The caller did not take the offered slot in time; it is free again."""

    event_type: ClassVar[str] = "OfferLapsed"

    starts_at: Instant
    lapsed_at: Instant


@event
class WaitlistLeft(_BookingEvent):
    """The caller left the waitlist: booked, or no longer waiting."""

    event_type: ClassVar[str] = "WaitlistLeft"

    booked: bool
    left_at: Instant
