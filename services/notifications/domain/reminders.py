"""Reminders: the day before (at the same London clock time) and a few hours before, out of quiet hours.

A reminder belongs to one time of one appointment (``moves``): when the appointment
moves, the reminders of its old time are void and the new time gets its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.common.london import local
from services.notifications.domain import templates as t
from services.notifications.domain.appointment import Appointment
from services.notifications.domain.decider import Rules, Text, when_where
from services.notifications.domain.quiet import wall_instant

ReminderKind = Literal["day-before", "soon"]


@dataclass(frozen=True)
class ReminderPolicy:
    """Which reminders go: the day before, and ``hours_before`` the start (0: none)."""

    day_before: bool = True
    hours_before: float = 2.0


@dataclass(frozen=True)
class Reminder:
    """A reminder due at an instant, for one time (``moves``) of one appointment."""

    appointment_id: str
    kind: ReminderKind
    due_at: datetime
    moves: int


def schedule(appointment: Appointment, now: datetime, policy: ReminderPolicy, rules: Rules) -> list[Reminder]:
    """The reminders of the appointment's current time that are still ahead of ``now``."""
    if not appointment.textable or appointment.status != "booked" or appointment.starts_at is None:
        return []
    starts = appointment.starts_at
    wanted: list[tuple[ReminderKind, datetime]] = []
    if policy.day_before:
        clock = local(starts)
        wanted.append(("day-before", wall_instant(clock.date() - timedelta(days=1), clock.time())))
    if policy.hours_before > 0:
        wanted.append(("soon", starts - timedelta(hours=policy.hours_before)))
    found = []
    for kind, due in wanted:
        placed = rules.quiet.place(due, starts)
        if placed is not None and placed > now:
            found.append(Reminder(appointment.appointment_id, kind, placed, appointment.moves))
    return found


def still_due(reminder: Reminder, appointment: Appointment | None) -> bool:
    """Whether a reminder still stands: the appointment booked, textable, and at the same time."""
    return (
        appointment is not None
        and appointment.textable
        and appointment.status == "booked"
        and appointment.moves == reminder.moves
    )


def reminder_text(reminder: Reminder, appointment: Appointment, rules: Rules) -> Text:
    """The reminder's text (to go now: it was placed out of quiet hours when scheduled)."""
    if appointment.place == "station":
        template = t.REMINDER_DAY_BEFORE if reminder.kind == "day-before" else t.REMINDER_SOON
    else:
        template = t.VISIT_REMINDER_DAY_BEFORE if reminder.kind == "day-before" else t.VISIT_REMINDER_SOON
    values = when_where(appointment, rules)
    return Text(
        appointment.appointment_id,
        template,
        {k: values[k] for k in template.placeholders},
        reminder.due_at,
    )
