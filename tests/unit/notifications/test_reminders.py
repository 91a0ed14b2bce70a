"""Reminders: the day before and two hours before, out of quiet hours, void once the time moves."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from services.notifications.domain.appointment import Appointment, evolve
from services.notifications.domain.reminders import ReminderPolicy, reminder_text, schedule, still_due
from tests.unit.notifications.builders import RULES, london, slot_booked

POLICY = ReminderPolicy(day_before=True, hours_before=2)


def appointment(day: date, at: time, booked_on: date) -> Appointment:
    state = evolve(None, slot_booked(london(day, at), london(booked_on, time(10, 0))))
    assert state is not None
    return state


def test_a_5pm_appointment_is_reminded_at_5pm_the_day_before_and_at_3pm() -> None:
    state = appointment(date(2026, 12, 2), time(17, 0), date(2026, 11, 25))
    reminders = schedule(state, london(date(2026, 11, 25), time(10, 0)), POLICY, RULES)
    assert [(r.kind, r.due_at) for r in reminders] == [
        ("day-before", london(date(2026, 12, 1), time(17, 0))),
        ("soon", london(date(2026, 12, 2), time(15, 0))),
    ]
    body = reminder_text(reminders[0], state, RULES).body()
    assert body.startswith(
        "Hertfordshire Police: a reminder that your appointment at Stevenage Police Station"
    )
    assert "tomorrow at 5pm" in body


def test_the_day_before_keeps_the_london_clock_across_the_autumn_change() -> None:
    # Sunday 25 October 2026 at 5pm GMT (the clocks went back that night); the day before is
    # Saturday 24th at 5pm BST: 25 hours earlier, not 24.
    state = appointment(date(2026, 10, 25), time(17, 0), date(2026, 10, 20))
    day_before = schedule(state, london(date(2026, 10, 20), time(10, 0)), POLICY, RULES)[0]
    assert day_before.due_at == london(date(2026, 10, 24), time(17, 0))
    assert (day_before.due_at - state.starts_at).total_seconds() == -25 * 3600  # type: ignore[operator]


def test_a_reminder_that_would_fall_in_quiet_hours_is_moved_out_of_them() -> None:
    # A 9am appointment: two hours before is 7am (quiet), so the reminder goes at 8am.
    state = appointment(date(2026, 12, 2), time(9, 0), date(2026, 11, 25))
    soon = schedule(state, london(date(2026, 11, 25), time(10, 0)), POLICY, RULES)[1]
    assert soon.due_at == london(date(2026, 12, 2), time(8, 0))


def test_reminders_already_past_when_booked_are_not_scheduled() -> None:
    state = appointment(date(2026, 12, 2), time(17, 0), date(2026, 12, 2))
    assert [r.kind for r in schedule(state, london(date(2026, 12, 2), time(10, 0)), POLICY, RULES)] == [
        "soon"
    ]


def test_a_reminder_of_an_old_time_or_a_cancelled_appointment_no_longer_stands() -> None:
    state = appointment(date(2026, 12, 2), time(17, 0), date(2026, 11, 25))
    reminder = schedule(state, london(date(2026, 11, 25), time(10, 0)), POLICY, RULES)[0]
    assert still_due(reminder, state)
    assert not still_due(reminder, replace(state, moves=state.moves + 1))
    assert not still_due(reminder, replace(state, status="cancelled"))
    assert not still_due(reminder, replace(state, textable=False))


def test_no_reminders_for_someone_who_may_not_be_texted() -> None:
    unsafe = evolve(
        None,
        slot_booked(
            london(date(2026, 12, 2), time(17, 0)),
            london(date(2026, 11, 25), time(10, 0)),
            safe_to_text=False,
        ),
    )
    assert unsafe is not None
    assert schedule(unsafe, london(date(2026, 11, 25), time(10, 0)), POLICY, RULES) == []
