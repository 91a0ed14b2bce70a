"""The appointment as a calendar entry (.ics, RFC 5545, made with icalendar).

It names the place and the time and nothing else: no case, no crime, no officer. Its
UID is the appointment's, and its SEQUENCE the number of times it moved, so a phone's
calendar updates the entry it already has rather than adding a second one.
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from services.notifications.domain.appointment import Appointment
from services.notifications.domain.decider import Rules
from services.notifications.domain.templates import FORCE


def ics(appointment: Appointment, rules: Rules, stamped_at: datetime) -> bytes:
    """The .ics file of one appointment's current time (cancelled: STATUS:CANCELLED)."""
    if appointment.starts_at is None or appointment.ends_at is None:
        raise ValueError("the appointment has no time yet")
    calendar = Calendar()
    calendar.add("prodid", "-//Hertfordshire Constabulary//Station Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = Event()
    entry.add("uid", f"{appointment.appointment_id}@appointments.herts.police.uk")
    entry.add("dtstamp", stamped_at)
    entry.add("dtstart", appointment.starts_at)
    entry.add("dtend", appointment.ends_at)
    entry.add("sequence", appointment.moves)
    if appointment.place == "station":
        entry.add("summary", f"{FORCE} appointment")
        entry.add("location", rules.place_name(appointment))
    else:
        entry.add("summary", f"{FORCE} home visit")
    entry.add("description", f"Your code is {appointment.code}. To change it, reply to our text or call 101.")
    entry.add("status", "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED")
    calendar.add_component(entry)
    return bytes(calendar.to_ical())
