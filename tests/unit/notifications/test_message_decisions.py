"""Which of booking's events gives the person which text: given the appointment, when an event, then texts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentMissed,
    AppointmentOffered,
    AppointmentReassigned,
    AppointmentRescheduled,
    CancelReason,
    Initiator,
    RescheduleReason,
    Slot,
)
from services.notifications.domain.appointment import Appointment, evolve, short_code
from services.notifications.domain.decider import Text, decide
from services.notifications.domain.length import MAX_LENGTH, notify_length
from tests.unit.notifications.builders import APPOINTMENT, RULES, london, slot_booked, visit_booked

TUESDAY = date(2026, 12, 1)
WEDNESDAY = date(2026, 12, 2)
BOOKED = slot_booked(london(WEDNESDAY, time(17, 0)), london(TUESDAY, time(10, 0)))


def booked() -> Appointment:
    state = evolve(None, BOOKED)
    assert state is not None
    return state


def only(texts: list[Text]) -> Text:
    assert len(texts) == 1, texts
    return texts[0]


class TestBooking:
    def test_a_station_booking_says_where_when_what_to_bring_how_to_reply_and_links_the_calendar(
        self,
    ) -> None:
        text = only(decide(None, BOOKED, RULES))
        body = text.body()
        assert text.template.name == "appointment-booked"
        assert body.startswith(
            "Hertfordshire Police: your appointment at Stevenage Police Station is at 5pm on"
            " Wednesday 2 December 2026."
        )
        assert "bring photo ID" in body and "Reply YES to confirm" in body and "CANCEL" in body
        assert f"{APPOINTMENT}.ics" in body
        assert f"Your code is {short_code(APPOINTMENT)}" in body
        assert text.send_at == BOOKED.booked_at
        assert notify_length(body) <= MAX_LENGTH

    def test_the_text_carries_a_notify_personalisation_not_the_case(self) -> None:
        text = only(decide(None, BOOKED, RULES))
        assert set(text.personalisation) == {"place", "time", "day", "calendar_link", "code"}
        assert "41/12345/26" not in text.body()

    def test_a_diary_car_visit_gives_its_window(self) -> None:
        visit = visit_booked(
            london(WEDNESDAY, time(10, 0)), london(WEDNESDAY, time(12, 0)), london(TUESDAY, time(10, 0))
        )
        body = only(decide(None, visit, RULES)).body()
        assert "visit you at home some time from 10am to midday on Wednesday 2 December 2026" in body

    def test_not_safe_to_text_means_no_text_at_all(self) -> None:
        unsafe = slot_booked(london(WEDNESDAY, time(17, 0)), london(TUESDAY, time(10, 0)), safe_to_text=False)
        assert decide(None, unsafe, RULES) == []
        state = evolve(None, unsafe)
        assert state is not None
        moved = AppointmentRescheduled(
            appointment_id=APPOINTMENT, diary="d", from_diary="d", from_starts_at=BOOKED.starts_at,
            from_ends_at=BOOKED.ends_at, starts_at=BOOKED.starts_at + timedelta(hours=1),
            ends_at=BOOKED.ends_at + timedelta(hours=1), room_id=None, officer_id=None, initiated_by="police",
            reason="officer-withdrawn", caller_to_be_told=True,
            rescheduled_at=london(TUESDAY, time(12, 0)),
        )  # fmt: skip
        assert decide(state, moved, RULES) == []

    def test_no_phone_or_texts_refused_means_no_text(self) -> None:
        refused = slot_booked(
            london(WEDNESDAY, time(17, 0)), london(TUESDAY, time(10, 0)), preferred_contact="none"
        )
        assert decide(None, refused, RULES) == []

    def test_a_booking_made_late_at_night_is_texted_at_eight_next_morning(self) -> None:
        late = slot_booked(london(WEDNESDAY, time(17, 0)), london(TUESDAY, time(22, 15)))
        assert only(decide(None, late, RULES)).send_at == london(WEDNESDAY, time(8, 0))


class TestChanges:
    def moved(
        self, by: Initiator = "police", reason: RescheduleReason = "officer-withdrawn"
    ) -> AppointmentRescheduled:
        return AppointmentRescheduled(
            appointment_id=APPOINTMENT, diary="station:stevenage:2026-12-03",
            from_diary="station:stevenage:2026-12-02",
            from_starts_at=BOOKED.starts_at, from_ends_at=BOOKED.ends_at,
            starts_at=london(date(2026, 12, 3), time(18, 0)), ends_at=london(date(2026, 12, 3), time(19, 0)),
            room_id="stevenage-room-1", officer_id="officer-2", initiated_by=by,
            reason=reason, caller_to_be_told=by == "police", rescheduled_at=london(TUESDAY, time(14, 0)),
        )  # fmt: skip

    def test_moved_by_the_police_gives_the_new_time_a_plain_reason_and_how_to_reply(self) -> None:
        body = only(decide(booked(), self.moved(), RULES)).body()
        assert "because the officer due to see you is no longer available" in body
        assert "6pm on Thursday 3 December 2026" in body and "Reply YES" in body
        assert "sickness" not in body

    def test_a_reason_with_no_words_of_its_own_gives_the_general_words(self) -> None:
        body = only(decide(booked(), self.moved(reason="room-unavailable"), RULES)).body()
        assert "room" not in body and "because we cannot keep the original time" in body

    def test_an_officer_s_duty_ended_early_reads_as_the_officer_no_longer_available(self) -> None:
        body = only(decide(booked(), self.moved(reason="duty-ended-early"), RULES)).body()
        assert "because the officer due to see you is no longer available" in body and "duty" not in body

    def test_moved_at_the_caller_s_request_confirms_the_new_time(self) -> None:
        text = only(decide(booked(), self.moved(by="public", reason="caller-asked"), RULES))
        assert text.template.name == "appointment-booked"
        assert "6pm on Thursday 3 December 2026" in text.body()

    def test_a_reassignment_is_silent_unless_the_caller_was_told_an_officer_s_name(self) -> None:
        reassigned = AppointmentReassigned(
            appointment_id=APPOINTMENT, diary="d", from_officer_id="officer-1", to_officer_id="officer-2",
            starts_at=BOOKED.starts_at, ends_at=BOOKED.ends_at, reason="officer-withdrawn",
            reassigned_at=london(TUESDAY, time(12, 0)),
        )  # fmt: skip
        assert decide(booked(), reassigned, RULES) == []
        named = replace(booked(), officer_named=True)
        assert only(decide(named, reassigned, RULES)).template.name == "officer-changed"

    def cancelled(self, by: Initiator, reason: CancelReason = "officer-withdrawn") -> AppointmentCancelled:
        return AppointmentCancelled(
            appointment_id=APPOINTMENT, diary="d", starts_at=BOOKED.starts_at, initiated_by=by,
            reason=reason, cancelled_at=london(TUESDAY, time(15, 0)),
        )  # fmt: skip

    def test_cancelled_by_the_police_says_sorry_why_and_how_to_book_again(self) -> None:
        body = only(decide(booked(), self.cancelled("police"), RULES)).body()
        assert "cancel your appointment at 5pm on Wednesday 2 December 2026" in body
        assert "Reply MOVE" in body

    def test_cancelled_by_the_caller_is_confirmed(self) -> None:
        text = only(decide(booked(), self.cancelled("public", "no-longer-needed"), RULES))
        assert text.template.name == "appointment-cancelled"

    def test_an_appointment_already_cancelled_is_not_cancelled_twice(self) -> None:
        gone = evolve(booked(), self.cancelled("public", "no-longer-needed"))
        assert decide(gone, self.cancelled("police"), RULES) == []

    def test_attended_gets_a_thank_you_asking_for_a_score_missed_gets_nothing(self) -> None:
        attended = AppointmentAttended(
            appointment_id=APPOINTMENT, diary="d", officer_id="officer-1", starts_at=BOOKED.starts_at,
            outcome="advice-given", recorded_at=london(WEDNESDAY, time(18, 0)),
        )  # fmt: skip
        text = only(decide(booked(), attended, RULES))
        assert text.template.name == "thank-you" and "1 (very poor) to 5 (very good)" in text.body()
        missed = AppointmentMissed(
            appointment_id=APPOINTMENT, diary="d", starts_at=BOOKED.starts_at, missed_by="public",
            reason="did-not-attend", recorded_at=london(WEDNESDAY, time(18, 0)),
        )  # fmt: skip
        assert decide(booked(), missed, RULES) == []

    def test_a_thank_you_recorded_at_night_waits_for_the_morning(self) -> None:
        attended = AppointmentAttended(
            appointment_id=APPOINTMENT, diary="d", officer_id="officer-1", starts_at=BOOKED.starts_at,
            outcome="advice-given", recorded_at=london(WEDNESDAY, time(21, 30)),
        )  # fmt: skip
        assert only(decide(booked(), attended, RULES)).send_at == london(date(2026, 12, 3), time(8, 0))


def test_an_offer_from_the_waitlist_says_how_to_accept_and_until_when() -> None:
    waiting = replace(booked(), status="waiting", starts_at=None, ends_at=None)
    offered = AppointmentOffered(
        appointment_id=APPOINTMENT, diary="d",
        slot=Slot(place="station", place_id="stevenage", starts_at=BOOKED.starts_at, ends_at=BOOKED.ends_at),
        officer_id=None, expires_at=london(TUESDAY, time(16, 30)), offered_at=london(TUESDAY, time(14, 30)),
    )  # fmt: skip
    body = only(decide(waiting, offered, RULES)).body()
    assert "is free at Stevenage Police Station at 5pm on Wednesday 2 December 2026" in body
    assert "call 101 by 4:30pm on Tuesday 1 December 2026" in body


def test_an_event_for_an_appointment_never_seen_booked_gives_nothing() -> None:
    attended = AppointmentAttended(
        appointment_id="other", diary="d", officer_id=None, starts_at=BOOKED.starts_at,
        outcome="advice-given", recorded_at=london(WEDNESDAY, time(18, 0)),
    )  # fmt: skip
    assert decide(None, attended, RULES) == []


def test_a_bishop_s_stortford_booking_names_the_station_with_its_apostrophe() -> None:
    there = slot_booked(
        london(WEDNESDAY, time(19, 0)), london(TUESDAY, time(10, 0)), station="bishops-stortford"
    )
    assert "at Bishop's Stortford Police Station is at 7pm" in only(decide(None, there, RULES)).body()
