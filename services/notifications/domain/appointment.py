"""An appointment as the notifications service knows it: who may be texted, where and when.

Folded from booking's events (``evolve``), kept in the service's own table. The phone
stays sealed under the caller's key; whether the caller may be texted at all is decided
here once, from the briefing, and never revisited by a later event that does not say so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, assert_never

from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentMissed,
    AppointmentOffered,
    AppointmentReassigned,
    AppointmentRescheduled,
    Briefing,
    CallerDetails,
    DiaryCarVisitBooked,
    OfferLapsed,
    Place,
    SlotBooked,
    WaitlistJoined,
    WaitlistLeft,
)
from schemas.personal import Sealed

Status = Literal["waiting", "offered", "booked", "cancelled", "attended", "missed", "left"]
# The booking events that change what the notifications service knows of an appointment.
BookingFact = (
    SlotBooked
    | DiaryCarVisitBooked
    | AppointmentRescheduled
    | AppointmentReassigned
    | AppointmentCancelled
    | AppointmentAttended
    | AppointmentMissed
    | WaitlistJoined
    | AppointmentOffered
    | OfferLapsed
    | WaitlistLeft
)
BOOKING_FACTS = frozenset(
    t.event_type
    for t in (
        SlotBooked, DiaryCarVisitBooked, AppointmentRescheduled, AppointmentReassigned,
        AppointmentCancelled, AppointmentAttended, AppointmentMissed, WaitlistJoined,
        AppointmentOffered, OfferLapsed, WaitlistLeft,
    )
)  # fmt: skip
_CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed back


def short_code(appointment_id: str) -> str:
    """Four characters naming the appointment in a reply ('CANCEL K7Q2'), as NHS reminders do."""
    digest = hashlib.sha256(appointment_id.encode()).digest()
    return "".join(_CODE_LETTERS[b % len(_CODE_LETTERS)] for b in digest[:4])


def may_text(caller: CallerDetails, briefing: Briefing) -> bool:
    """Whether the caller may be texted: a number, texting safe, and texts not refused."""
    return caller.phone is not None and briefing.safe_to_text and briefing.preferred_contact != "none"


@dataclass(frozen=True)
class Appointment:
    """What a text about one appointment may need; ``starts_at`` is None while only waiting."""

    appointment_id: str
    subject_id: str
    phone: Sealed | None
    textable: bool
    place: Place
    place_id: str
    starts_at: datetime | None
    ends_at: datetime | None
    status: Status
    # Whether the caller was told the attending officer's name (no booking event says so yet).
    officer_named: bool = False
    # How many times its time has moved: a reminder belongs to one of them.
    moves: int = 0
    # The officer who attends it (None: not known yet, or a diary car's without one).
    officer_id: str | None = None

    @property
    def code(self) -> str:
        """The appointment's short code."""
        return short_code(self.appointment_id)

    @property
    def upcoming(self) -> bool:
        """Booked and not yet over (the caller can still confirm, move or cancel it)."""
        return self.status == "booked"


def _booked(event: SlotBooked | DiaryCarVisitBooked) -> Appointment:
    if isinstance(event, SlotBooked):
        place: Place = "station"
        place_id, starts, ends = event.station_id, event.starts_at, event.ends_at
    else:
        place, place_id = "diary-car", event.district_id
        starts, ends = event.window_starts_at, event.window_ends_at
    return Appointment(
        event.appointment_id,
        event.caller.subject_id,
        event.caller.phone,
        may_text(event.caller, event.briefing),
        place,
        place_id,
        starts,
        ends,
        "booked",
        officer_id=event.officer_id,
    )


def evolve(state: Appointment | None, event: BookingFact) -> Appointment | None:
    """The appointment after one of booking's events (None: not one this service has seen booked)."""
    match event:
        case SlotBooked() | DiaryCarVisitBooked():
            booked = _booked(event)
            return booked if state is None else replace(booked, moves=state.moves + 1)
        case WaitlistJoined():
            return Appointment(
                event.appointment_id, event.caller.subject_id, event.caller.phone,
                may_text(event.caller, event.briefing), event.place, event.place_id, None, None, "waiting",
            )  # fmt: skip
        case AppointmentOffered():
            if state is None:
                return None
            slot = event.slot
            return replace(
                state,
                status="offered",
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                officer_id=event.officer_id,
            )
        case OfferLapsed():
            return None if state is None else replace(state, status="waiting", starts_at=None, ends_at=None)
        case WaitlistLeft():
            if state is None or event.booked or state.status == "booked":
                return state
            return replace(state, status="left")
        case AppointmentRescheduled():
            if state is None:
                return None
            return replace(
                state,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                moves=state.moves + 1,
                officer_id=event.officer_id,
            )
        case AppointmentReassigned():
            return None if state is None else replace(state, officer_id=event.to_officer_id)
        case AppointmentCancelled():
            return None if state is None else replace(state, status="cancelled")
        case AppointmentAttended():
            return None if state is None else replace(state, status="attended")
        case AppointmentMissed():
            return None if state is None else replace(state, status="missed")
        case _:
            assert_never(event)
