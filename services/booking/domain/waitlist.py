"""The waitlist of a station or diary car: callers for whom nothing suited, in the order they
joined. Its stream is ``waitlist:{place}:{place_id}``.

How a freed slot reaches a waiting caller (the rules are in ``offers``; the app reacts):
1. a cancellation, a lapsed or declined offer or new duty frees a slot on a day:
   ``offers.offer_day`` names the first caller waiting who fits it;
2. ``OfferFreedSlot`` on that day holds the slot for them until it lapses;
3. they accept: ``BookStationSlot`` / ``BookDiaryCarVisit`` with their appointment id
   turns the hold into a booking, then ``LeaveWaitlist(booked=True)`` here;
4. they do not: ``LapseOffer`` on the day frees it, and back to 1 (the day remembers
   the lapse, so the next caller is offered it, not the same one again).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import assert_never

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import DomainEvent
from schemas.booking import (
    Briefing,
    CallerDetails,
    IncidentGrade,
    Instant,
    Place,
    WaitlistJoined,
    WaitlistLeft,
)
from services.booking.domain.calendar import local_date
from services.booking.domain.errors import Refusal, UnknownAppointment
from services.booking.domain.rules import check_grade


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JoinWaitlist(_Command):
    """Put a caller on the waitlist for a date range."""

    appointment_id: str
    from_day: date
    to_day: date
    incident_grade: IncidentGrade
    caller: CallerDetails
    briefing: Briefing
    # How long an offer to this caller stands, when not the service's usual hold.
    offer_hold_seconds: int | None = Field(default=None, ge=1)
    now: Instant


class LeaveWaitlist(_Command):
    """Take a caller off the waitlist: booked, or no longer waiting."""

    appointment_id: str
    booked: bool
    now: Instant


WaitlistCommand = JoinWaitlist | LeaveWaitlist
# Every event a waitlist's stream holds; ``evolve`` must handle each (mypy checks it does).
WaitlistEvent = WaitlistJoined | WaitlistLeft


@dataclass(frozen=True)
class WaitingCaller:
    """One caller waiting, the days that would suit them, and their own hold of an offer (seconds)."""

    appointment_id: str
    from_day: date
    to_day: date
    offer_hold_seconds: int | None = None


@dataclass(frozen=True)
class Waitlist:
    """The callers still waiting for one station or diary car, first come first."""

    place: Place
    place_id: str
    waiting: tuple[WaitingCaller, ...] = ()
    left: frozenset[str] = frozenset()

    @property
    def stream_id(self) -> str:
        """The event-store stream of this waitlist."""
        return f"waitlist:{self.place}:{self.place_id}"

    def caller(self, appointment_id: str) -> WaitingCaller | None:
        """The caller waiting under this entry id, if they still wait."""
        return next((w for w in self.waiting if w.appointment_id == appointment_id), None)


def initial_state(place: Place, place_id: str) -> Waitlist:
    """A station's or diary car's waitlist before anyone joined it."""
    return Waitlist(place, place_id)


def event_of(event: DomainEvent) -> WaitlistEvent:
    """This stream's event, narrowed; TypeError for an event that does not belong to it."""
    if isinstance(event, WaitlistEvent):
        return event
    raise TypeError(f"{event.event_type} is not an event of a waitlist")


def decide(command: WaitlistCommand, state: Waitlist) -> list[WaitlistEvent]:
    """The events a waitlist command causes; raises BookingRefused when refused."""
    known = any(w.appointment_id == command.appointment_id for w in state.waiting)
    match command:
        case JoinWaitlist():
            if known or command.appointment_id in state.left:
                return []
            check_grade(command.incident_grade)
            if command.to_day < command.from_day:
                raise Refusal("to_day", "the range ends before it begins")
            if command.to_day < local_date(command.now):
                raise Refusal("to_day", "the whole range is in the past")
            return [
                WaitlistJoined(
                    appointment_id=command.appointment_id,
                    diary=state.stream_id,
                    place=state.place,
                    place_id=state.place_id,
                    from_day=command.from_day,
                    to_day=command.to_day,
                    caller=command.caller,
                    briefing=command.briefing,
                    joined_at=command.now,
                    offer_hold_seconds=command.offer_hold_seconds,
                )
            ]
        case LeaveWaitlist():
            if command.appointment_id in state.left:
                return []
            if not known:
                raise UnknownAppointment(command.appointment_id)
            return [
                WaitlistLeft(
                    appointment_id=command.appointment_id,
                    diary=state.stream_id,
                    booked=command.booked,
                    left_at=command.now,
                )
            ]
        case _:
            assert_never(command)


def evolve(state: Waitlist, event: WaitlistEvent) -> Waitlist:
    """The waitlist after one of its events."""
    match event:
        case WaitlistJoined():
            joined = WaitingCaller(
                event.appointment_id, event.from_day, event.to_day, event.offer_hold_seconds
            )
            return replace(state, waiting=(*state.waiting, joined))
        case WaitlistLeft():
            return replace(
                state,
                waiting=tuple(w for w in state.waiting if w.appointment_id != event.appointment_id),
                left=state.left | {event.appointment_id},
            )
        case _:
            assert_never(event)


def fold(state: Waitlist, events: Iterable[DomainEvent]) -> Waitlist:
    """The waitlist after all these events (as stored or as just decided), in order."""
    for event in events:
        state = evolve(state, event_of(event))
    return state
