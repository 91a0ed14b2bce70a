"""Texts to officers on appointment duty: their day in the morning, and every change to it. Pure.

An officer's text names the day, the time and what changed ("a new appointment", "an
appointment cancelled"), never the caller, the case or the briefing: those are read in the
diary. Quiet hours hold for officers too, unless waiting would be too late to matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.booking import (
    AppointmentCancelled,
    AppointmentReassigned,
    AppointmentRescheduled,
    DiaryCarVisitBooked,
    SlotBooked,
)
from services.common.london import local
from services.notifications.domain import templates as t
from services.notifications.domain.appointment import Appointment, BookingFact, evolve
from services.notifications.domain.decider import Rules
from services.notifications.domain.quiet import wall_instant
from services.notifications.domain.wording import day_of, time_of, window_of

CHANGES = {
    "new": "a new appointment",
    "handed-to-you": "an appointment handed to you",
    "handed-on": "an appointment handed to a colleague",
    "moved-here": "an appointment moved to this time",
    "moved-away": "an appointment moved off your duty",
    "cancelled": "an appointment cancelled",
}


@dataclass(frozen=True)
class OfficerText:
    """A text for one officer: the template, what fills it, from when it may go, and its appointment."""

    officer_id: str
    template: t.Template
    personalisation: dict[str, str]
    send_at: datetime
    appointment_id: str | None = None

    def body(self) -> str:
        """The text as the officer reads it."""
        return self.template.render(self.personalisation)


@dataclass(frozen=True)
class Duty:
    """An officer's appointment or diary-car duty, as the day's text needs it."""

    duty_id: str
    officer_id: str
    place: str  # "Stevenage Police Station", or "the Stevenage diary car"
    starts_at: datetime
    ends_at: datetime


def _change(
    officer_id: str | None, what: str, appointment: Appointment, at: datetime, rules: Rules
) -> list[OfficerText]:
    if officer_id is None or appointment.starts_at is None:
        return []
    send_at = rules.quiet.place(at, appointment.starts_at)
    if send_at is None:
        return []
    values = {
        "day": day_of(appointment.starts_at),
        "time": time_of(appointment.starts_at),
        "change": CHANGES[what],
    }
    return [OfficerText(officer_id, t.OFFICER_CHANGE, values, send_at, appointment.appointment_id)]


def officer_texts(before: Appointment | None, event: BookingFact, rules: Rules) -> list[OfficerText]:
    """The texts one of booking's events gives the officers whose day it changes."""
    after = evolve(before, event)
    if after is None:
        return []
    match event:
        case SlotBooked() | DiaryCarVisitBooked():
            if before is not None and before.officer_id == after.officer_id and before.status == "offered":
                return _change(
                    after.officer_id, "new", after, event.booked_at, rules
                )  # the held slot is taken
            return _change(after.officer_id, "new", after, event.booked_at, rules)
        case AppointmentReassigned():
            return [
                *_change(event.from_officer_id, "handed-on", after, event.reassigned_at, rules),
                *_change(event.to_officer_id, "handed-to-you", after, event.reassigned_at, rules),
            ]
        case AppointmentRescheduled():
            if before is None:
                return []
            if before.officer_id == after.officer_id:
                return _change(after.officer_id, "moved-here", after, event.rescheduled_at, rules)
            return [
                *_change(before.officer_id, "moved-away", before, event.rescheduled_at, rules),
                *_change(after.officer_id, "new", after, event.rescheduled_at, rules),
            ]
        case AppointmentCancelled():
            if before is None or before.status != "booked":
                return []
            return _change(before.officer_id, "cancelled", before, event.cancelled_at, rules)
        case _:
            return []


def day_due(duty: Duty, rules: Rules) -> datetime | None:
    """When an officer's day text goes: as the quiet hours end on the duty's day, before it starts."""
    morning = wall_instant(local(duty.starts_at).date(), rules.quiet.ends)
    return rules.quiet.place(min(morning, duty.starts_at), duty.starts_at)


def day_text(duty: Duty, booked: int, at: datetime) -> OfficerText:
    """The officer's day: where, when, and how many appointments are booked so far."""
    values = {
        "day": day_of(duty.starts_at),
        "place": duty.place,
        "window": window_of(duty.starts_at, duty.ends_at),
        "count": str(min(booked, 999)),
    }
    return OfficerText(duty.officer_id, t.OFFICER_DAY, values, at)
