"""Properties of the text decisions over any booking, any hour and any clock change."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.booking import AppointmentCancelled, AppointmentRescheduled
from services.notifications.domain.appointment import evolve
from services.notifications.domain.decider import Rules, decide
from services.notifications.domain.length import MAX_LENGTH, notify_length
from services.notifications.domain.quiet import QuietHours
from services.notifications.domain.reminders import ReminderPolicy, schedule
from tests.unit.notifications.builders import APPOINTMENT, RULES, slot_booked

# Instants across 2026 and 2027, both clock changes of each included, to the minute.
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(second=0, microsecond=0))
quiet_hours = st.tuples(st.integers(0, 23), st.integers(0, 23)).map(
    lambda h: QuietHours(time(h[0]), time(h[1]))
)


@settings(max_examples=300, deadline=None)
@given(booked_at=instants, ahead=st.integers(60, 60 * 24 * 30), quiet=quiet_hours, safe=st.booleans())
def test_no_text_is_decided_in_quiet_hours_too_long_or_for_someone_not_safe_to_text(
    booked_at: datetime, ahead: int, quiet: QuietHours, safe: bool
) -> None:
    rules = Rules(quiet=quiet, stations=RULES.stations)
    starts = (booked_at + timedelta(minutes=ahead)).replace(minute=0)
    booked = slot_booked(starts, booked_at, safe_to_text=safe)
    state = evolve(None, booked)
    moved = AppointmentRescheduled(
        appointment_id=APPOINTMENT, diary="d", from_diary="d", from_starts_at=booked.starts_at,
        from_ends_at=booked.ends_at, starts_at=starts + timedelta(days=1),
        ends_at=booked.ends_at + timedelta(days=1),
        room_id=None, officer_id=None, initiated_by="police", reason="officer-withdrawn",
        caller_to_be_told=True, rescheduled_at=booked_at + timedelta(minutes=1),
    )  # fmt: skip
    cancelled = AppointmentCancelled(
        appointment_id=APPOINTMENT, diary="d", starts_at=moved.starts_at, initiated_by="police",
        reason="station-closed", cancelled_at=booked_at + timedelta(minutes=2),
    )  # fmt: skip
    after_move = evolve(state, moved)
    texts = [
        *decide(None, booked, rules),
        *decide(state, moved, rules),
        *decide(after_move, cancelled, rules),
    ]
    reminders = schedule(state, booked_at, ReminderPolicy(), rules) if state else []
    if not safe:
        assert texts == [] and reminders == []
    for text in texts:
        assert not quiet.is_quiet(text.send_at)
        assert notify_length(text.body()) <= MAX_LENGTH
    for reminder in reminders:
        assert not quiet.is_quiet(reminder.due_at)
        assert booked_at < reminder.due_at < booked.starts_at


@settings(max_examples=200, deadline=None)
@given(at=instants, quiet=quiet_hours)
def test_the_next_allowed_moment_is_never_quiet_never_earlier_and_within_a_day(
    at: datetime, quiet: QuietHours
) -> None:
    allowed = quiet.next_allowed(at)
    assert allowed >= at and not quiet.is_quiet(allowed)
    assert allowed - at <= timedelta(hours=25)
