"""Which text an event of booking's gives the person, and when: pure, no clock, no I/O.

``decide`` takes the appointment as it stood before the event, the event, and the
rules (quiet hours, the names of places, how a calendar link is made); it returns the
texts to queue, each with its template, its personalisation and when it may go. Nothing
is decided for a caller who may not be texted, and no text goes in quiet hours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import assert_never

from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentMissed,
    AppointmentOffered,
    AppointmentReassigned,
    AppointmentRescheduled,
    DiaryCarVisitBooked,
    OfferLapsed,
    SlotBooked,
    WaitlistJoined,
    WaitlistLeft,
)
from services.notifications.domain import templates as t
from services.notifications.domain.appointment import Appointment, BookingFact, evolve
from services.notifications.domain.quiet import QuietHours
from services.notifications.domain.wording import day_of, plain_reason, time_of, window_of

# How long after an appointment a thank-you still makes sense.
THANK_YOU_WITHIN = timedelta(days=2)


@dataclass(frozen=True)
class Rules:
    """What a decision needs from outside: quiet hours, place names, calendar links."""

    quiet: QuietHours = field(default_factory=QuietHours)
    # station id -> its name ("Stevenage"); the text says "Stevenage Police Station".
    stations: Mapping[str, str] = field(default_factory=dict)
    # district id -> its name ("Welwyn Hatfield"): an officer's diary-car duty says it.
    districts: Mapping[str, str] = field(default_factory=dict)
    # appointment id -> the link of its .ics file.
    calendar_link: Callable[[str], str] = lambda appointment_id: (
        f"https://example.invalid/{appointment_id}.ics"
    )

    def place_name(self, appointment: Appointment) -> str:
        """Where, as the text says it."""
        name = self.stations.get(appointment.place_id, appointment.place_id.replace("-", " ").title())
        return f"{name} Police Station"


@dataclass(frozen=True)
class Text:
    """A text decided for one appointment: the template, what fills it, and from when it may go."""

    appointment_id: str
    template: t.Template
    personalisation: Mapping[str, str]
    send_at: datetime

    def body(self) -> str:
        """The text as the person will read it."""
        return self.template.render(self.personalisation)


def when_where(appointment: Appointment, rules: Rules) -> dict[str, str]:
    """The personalisation every text about a booked time shares."""
    assert appointment.starts_at is not None and appointment.ends_at is not None
    return {
        "place": rules.place_name(appointment),
        "time": time_of(appointment.starts_at),
        "window": window_of(appointment.starts_at, appointment.ends_at),
        "day": day_of(appointment.starts_at),
        "code": appointment.code,
    }


def _text(
    appointment: Appointment,
    template: t.Template,
    values: Mapping[str, str],
    at: datetime,
    rules: Rules,
    pointless_from: datetime | None = None,
) -> list[Text]:
    """One text, if it can go out of quiet hours before it is pointless."""
    send_at = rules.quiet.place(at, pointless_from) if pointless_from else rules.quiet.next_allowed(at)
    if send_at is None:
        return []
    wanted = {k: values[k] for k in template.placeholders}
    return [Text(appointment.appointment_id, template, wanted, send_at)]


def _booked(after: Appointment, at: datetime, rules: Rules) -> list[Text]:
    assert after.starts_at is not None
    values = when_where(after, rules) | {"calendar_link": rules.calendar_link(after.appointment_id)}
    template = t.APPOINTMENT_BOOKED if after.place == "station" else t.VISIT_BOOKED
    return _text(after, template, values, at, rules, after.starts_at)


def decide(before: Appointment | None, event: BookingFact, rules: Rules) -> list[Text]:
    """The texts one of booking's events gives the person (none when they may not be texted)."""
    after = evolve(before, event)
    if after is None or not after.textable:
        return []
    match event:
        case SlotBooked() | DiaryCarVisitBooked():
            return _booked(after, event.booked_at, rules)
        case AppointmentRescheduled():
            if event.initiated_by == "public":
                return _booked(after, event.rescheduled_at, rules)
            assert after.starts_at is not None
            values = when_where(after, rules) | {"reason": plain_reason(event.reason)}
            template = t.APPOINTMENT_MOVED if after.place == "station" else t.VISIT_MOVED
            return _text(after, template, values, event.rescheduled_at, rules, after.starts_at)
        case AppointmentReassigned():
            if not after.officer_named or after.starts_at is None:
                return []
            values = when_where(after, rules)
            return _text(after, t.OFFICER_CHANGED, values, event.reassigned_at, rules, after.starts_at)
        case AppointmentCancelled():
            if before is None or before.status != "booked" or before.starts_at is None:
                return []
            values = when_where(before, rules)
            if event.initiated_by == "police":
                values |= {"reason": plain_reason(event.reason)}
                template = t.APPOINTMENT_CANCELLED_BY_POLICE
            else:
                template = t.APPOINTMENT_CANCELLED
            return _text(after, template, values, event.cancelled_at, rules, before.starts_at)
        case AppointmentAttended():
            until = event.recorded_at + THANK_YOU_WITHIN
            return _text(after, t.THANK_YOU, {}, event.recorded_at, rules, until)
        case AppointmentOffered():
            values = when_where(after, rules) | {
                "until_time": time_of(event.expires_at),
                "until_day": day_of(event.expires_at),
            }
            return _text(after, t.APPOINTMENT_OFFERED, values, event.offered_at, rules, event.expires_at)
        case AppointmentMissed() | WaitlistJoined() | OfferLapsed() | WaitlistLeft():
            return []
        case _:
            assert_never(event)
