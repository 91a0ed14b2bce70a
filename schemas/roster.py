"""The roster service's published events, on ``roster.events``, keyed by officer id (the staff
directory's ``StaffMemberNamed``: by the person's sign-in subject).

Events are a storage format: each changes only by adding a new version (a new
class with the same ``event_type`` and a higher ``schema_version``, plus an
upcaster); stored history is never rewritten. Times are UTC instants.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from schemas.base import DomainEvent, event, upcaster
from schemas.booking import Instant, code_of
from schemas.topics import ROSTER_EVENTS

# Only appointment and diary-car duty give appointment capacity; the other two are why
# an officer is NOT available for appointments (the seeds: emergency response, Safer
# Neighbourhood).
Duty = Literal["appointments", "diary-car", "emergency-response", "safer-neighbourhood"]
WithdrawalReason = Literal["sickness", "court", "major-incident", "training", "other"]
# Why a duty ended: as planned (its end reached), or early for one of a withdrawal's reasons.
# Codes only: the roster keeps no free text about its officers.
DutyEndReason = Literal["planned", "sickness", "court", "major-incident", "training", "other"]


class _RosterEvent(DomainEvent):
    topic: ClassVar[str] = ROSTER_EVENTS

    officer_id: str

    def stream_key(self) -> str:
        """The Kafka key: the officer id."""
        return self.officer_id


# The longest officer's name the roster takes (the whole name as staff write it).
NAME_MAX_LENGTH = 100
# The longest sign-in subject the staff directory takes (an identity provider's ``sub``).
SUBJECT_MAX_LENGTH = 255
# The roles of people who sign in (the SMS gateway's is a system's, never a person's).
StaffRole = Literal["call-taker", "officer", "supervisor", "auditor", "admin"]


@event
class OfficerRegisteredV1(_RosterEvent):
    """An officer joins the roster at a home station (collar number, never a home address)."""

    # Version 1: no name; version 2 adds the officer's name.
    model_config = ConfigDict(title="OfficerRegistered")
    event_type: ClassVar[str] = "OfficerRegistered"

    collar_number: str
    station_id: str
    district_id: str
    registered_at: Instant


@event
class OfficerRegistered(_RosterEvent):
    """An officer joins the roster at a home station: collar number and name, never a home address."""

    event_type: ClassVar[str] = "OfficerRegistered"
    schema_version: ClassVar[int] = 2

    collar_number: str
    station_id: str
    district_id: str
    registered_at: Instant
    # Staff data, shown to staff on the pages; never in a log line or a text to a caller.
    name: str | None = Field(
        default=None,
        max_length=NAME_MAX_LENGTH,
        description="The officer's name as staff know it; null when it was not recorded"
        " (every version-1 registration, and a client that sent none).",
    )


@upcaster("OfficerRegistered", 1)
def _registered_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 never held a name: it reads as not recorded, never as a made-up one.
    return data | {"name": None}


@event
class OfficerRenamed(_RosterEvent):
    """The officer's name as recorded changes (given for the first time, or corrected)."""

    event_type: ClassVar[str] = "OfficerRenamed"

    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    renamed_at: Instant


@event
class DutyAssigned(_RosterEvent):
    """An officer is on a duty for a span: at a station (appointments) or a district's diary car."""

    event_type: ClassVar[str] = "DutyAssigned"

    duty_id: str
    duty: Duty
    station_id: str | None
    district_id: str
    starts_at: Instant
    ends_at: Instant
    assigned_at: Instant


@event
class DutyEndedV1(_RosterEvent):
    """A duty ends, early or as planned; appointments after ``ends_at`` lose this officer."""

    # Version 1: the reason was free text, in clear; version 2 holds a code.
    model_config = ConfigDict(title="DutyEnded")
    event_type: ClassVar[str] = "DutyEnded"

    duty_id: str
    ends_at: Instant
    early: bool
    reason: str
    ended_at: Instant
    # Added (defaults keep earlier records readable): what the duty was, so a reader that
    # did not keep every DutyAssigned can still tell which station or diary car lost capacity.
    duty: Duty | None = None
    station_id: str | None = None
    district_id: str | None = None
    starts_at: Instant | None = None


@event
class DutyEnded(_RosterEvent):
    """A duty ends, early or as planned; appointments after ``ends_at`` lose this officer."""

    event_type: ClassVar[str] = "DutyEnded"
    schema_version: ClassVar[int] = 2

    duty_id: str
    ends_at: Instant
    early: bool
    reason: DutyEndReason
    ended_at: Instant
    # Added (defaults keep earlier records readable): what the duty was, so a reader that
    # did not keep every DutyAssigned can still tell which station or diary car lost capacity.
    duty: Duty | None = None
    station_id: str | None = None
    district_id: str | None = None
    starts_at: Instant | None = None


@upcaster("DutyEnded", 1)
def _duty_ended_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    fallback = "other" if data.get("early") else "planned"
    return data | {"reason": code_of(data.get("reason"), DutyEndReason, fallback)}


@event
class OfficerWithdrawn(_RosterEvent):
    """An officer is taken off appointment duty for a span, with the reason."""

    event_type: ClassVar[str] = "OfficerWithdrawn"

    withdrawal_id: str
    starts_at: Instant
    ends_at: Instant
    reason: WithdrawalReason
    withdrawn_at: Instant
    # Added (default keeps earlier records readable): the appointment and diary-car duties
    # the withdrawal cuts into, when it was recorded.
    duty_ids: tuple[str, ...] = ()


@event
class StaffMemberNamed(DomainEvent):
    """A person who signs in to the pages goes by this name: recorded the first time they sign in,
    and again only when their name (or role) as the identity provider or the local users give it
    changes. Lets histories and the access log name whoever an event's ``actor`` header names only
    by role and subject. Staff data, shown to staff on the pages; never in a log line or a text to a
    caller."""

    topic: ClassVar[str] = ROSTER_EVENTS
    event_type: ClassVar[str] = "StaffMemberNamed"

    subject: str = Field(
        min_length=1,
        max_length=SUBJECT_MAX_LENGTH,
        description="The person's sign-in subject (their tokens' sub), as event headers' actor carries it.",
    )
    role: StaffRole = Field(description="The role they signed in with.")
    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH, description="Their name as staff know it.")
    named_at: Instant

    def stream_key(self) -> str:
        """The Kafka key: the person's sign-in subject."""
        return self.subject
