"""Officers on appointment duty: their day, and every change to it, with nothing of the case."""

from __future__ import annotations

from datetime import date, time

from schemas.booking import AppointmentCancelled, AppointmentReassigned, AppointmentRescheduled
from services.notifications.domain.appointment import Appointment, evolve
from services.notifications.domain.officers import Duty, day_due, day_text, officer_texts
from tests.unit.notifications.builders import APPOINTMENT, RULES, london, slot_booked

WEDNESDAY = date(2026, 12, 2)
BOOKED = slot_booked(london(WEDNESDAY, time(17, 0)), london(date(2026, 12, 1), time(10, 0)))


def booked() -> Appointment:
    state = evolve(None, BOOKED)
    assert state is not None
    return state


def test_a_booking_tells_its_officer_of_a_new_appointment_without_the_case() -> None:
    (text,) = officer_texts(None, BOOKED, RULES)
    assert text.officer_id == "officer-1" and text.appointment_id == APPOINTMENT
    body = text.body()
    assert body == (
        "Hertfordshire Police: a change to your appointment duty on Wednesday 2 December 2026: a new"
        " appointment at 5pm. Please check your diary."
    )
    assert "41/12345/26" not in body


def test_a_reassignment_tells_both_officers() -> None:
    reassigned = AppointmentReassigned(
        appointment_id=APPOINTMENT, diary="d", from_officer_id="officer-1", to_officer_id="officer-2",
        starts_at=BOOKED.starts_at, ends_at=BOOKED.ends_at, reason="officer-withdrawn",
        reassigned_at=london(WEDNESDAY, time(12, 0)),
    )  # fmt: skip
    texts = officer_texts(booked(), reassigned, RULES)
    assert [(t.officer_id, t.personalisation["change"]) for t in texts] == [
        ("officer-1", "an appointment handed to a colleague"),
        ("officer-2", "an appointment handed to you"),
    ]


def test_a_move_to_another_officer_tells_both_and_a_cancellation_tells_the_one_it_had() -> None:
    moved = AppointmentRescheduled(
        appointment_id=APPOINTMENT, diary="d", from_diary="d", from_starts_at=BOOKED.starts_at,
        from_ends_at=BOOKED.ends_at, starts_at=london(WEDNESDAY, time(19, 0)),
        ends_at=london(WEDNESDAY, time(20, 0)),
        room_id=None, officer_id="officer-3", initiated_by="police", reason="officer-withdrawn",
        caller_to_be_told=True, rescheduled_at=london(WEDNESDAY, time(12, 0)),
    )  # fmt: skip
    texts = officer_texts(booked(), moved, RULES)
    assert [(t.officer_id, t.personalisation["time"], t.personalisation["change"]) for t in texts] == [
        ("officer-1", "5pm", "an appointment moved off your duty"),
        ("officer-3", "7pm", "a new appointment"),
    ]
    cancelled = AppointmentCancelled(
        appointment_id=APPOINTMENT, diary="d", starts_at=BOOKED.starts_at, initiated_by="public",
        reason="no-longer-needed", cancelled_at=london(WEDNESDAY, time(12, 0)),
    )  # fmt: skip
    (text,) = officer_texts(booked(), cancelled, RULES)
    assert (text.officer_id, text.personalisation["change"]) == ("officer-1", "an appointment cancelled")


def test_an_appointment_with_no_officer_yet_tells_nobody() -> None:
    unassigned = BOOKED.model_copy(update={"officer_id": None})
    assert officer_texts(None, unassigned, RULES) == []


def test_the_day_goes_as_quiet_hours_end_on_the_duty_s_day_and_counts_what_is_booked() -> None:
    duty = Duty(
        "d-1",
        "officer-1",
        "Stevenage Police Station",
        london(WEDNESDAY, time(17, 0)),
        london(WEDNESDAY, time(20, 0)),
    )
    assert day_due(duty, RULES) == london(WEDNESDAY, time(8, 0))
    body = day_text(duty, 3, london(WEDNESDAY, time(8, 0))).body()
    assert body == (
        "Hertfordshire Police: your appointment duty on Wednesday 2 December 2026 is at Stevenage Police"
        " Station, 5pm to 8pm. Appointments booked so far: 3. Please read each briefing in your diary before"
        " you go."
    )
