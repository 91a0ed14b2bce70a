"""The diary read model is a pure fold: each booking event moves one appointment's line."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import reduce

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentCancelled,
    AppointmentReassigned,
    AppointmentRescheduled,
    Briefing,
    CallerDetails,
    SlotBooked,
)
from schemas.personal import Sealed
from services.projections.domain.diary import DiaryEntry, apply

SEALED = Sealed(subject_id="subject-1", nonce="bm9uY2U=", ciphertext="Y2lwaGVy")
T = datetime(2026, 12, 1, 9, tzinfo=UTC)


def at(hour: int, day: int = 2) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


BOOKED = SlotBooked(
    appointment_id="a-1", diary="station:stevenage:2026-12-02", station_id="stevenage",
    district_id="stevenage", room_id="stevenage-room-1", officer_id="o-1", starts_at=at(17), ends_at=at(18),
    caller=CallerDetails(subject_id="subject-1", name=SEALED),
    briefing=Briefing(
        case_reference="41/1/26", summary=SEALED, thrive_risk="low", safe_to_text=True, safe_to_call=True
    ),
    booked_at=T,
)  # fmt: skip


def fold(*events: DomainEvent) -> DiaryEntry | None:
    return reduce(apply, events, None)


def test_a_booked_slot_is_a_line_in_that_station_days_diary() -> None:
    entry = fold(BOOKED)
    assert entry is not None
    assert (entry.place, entry.place_id, str(entry.local_day), entry.status) == (
        "station", "stevenage", "2026-12-02", "booked",
    )  # fmt: skip
    assert entry.case_reference == "41/1/26" and entry.officer_id == "o-1"


def test_a_reassignment_keeps_the_time_and_changes_the_officer() -> None:
    entry = fold(
        BOOKED,
        AppointmentReassigned(
            appointment_id="a-1", diary=BOOKED.diary, from_officer_id="o-1", to_officer_id="o-2",
            starts_at=at(17), ends_at=at(18), reason="officer withdrawn: court", reassigned_at=T,
        ),
    )  # fmt: skip
    assert entry is not None
    assert (entry.officer_id, entry.starts_at, entry.status) == ("o-2", at(17), "booked")


def test_a_move_to_another_day_puts_the_line_on_that_day() -> None:
    entry = fold(
        BOOKED,
        AppointmentRescheduled(
            appointment_id="a-1", diary="station:stevenage:2026-12-03", from_diary=BOOKED.diary,
            from_starts_at=at(17), from_ends_at=at(18), starts_at=at(18, 3), ends_at=at(19, 3),
            room_id="stevenage-room-1", officer_id="o-1", initiated_by="police", reason="officer withdrawn",
            caller_to_be_told=True, rescheduled_at=T,
        ),
    )  # fmt: skip
    assert entry is not None
    assert (str(entry.local_day), entry.status, entry.initiated_by) == ("2026-12-03", "rescheduled", "police")


def test_a_cancellation_keeps_the_line_and_says_who_cancelled() -> None:
    entry = fold(
        BOOKED,
        AppointmentCancelled(
            appointment_id="a-1", diary=BOOKED.diary, starts_at=at(17), initiated_by="public",
            reason="no-longer-needed", cancelled_at=T,
        ),
    )  # fmt: skip
    assert entry is not None and (entry.status, entry.initiated_by) == ("cancelled", "public")


def test_events_about_an_appointment_the_diary_never_saw_booked_show_nothing() -> None:
    lone = AppointmentCancelled(
        appointment_id="a-9", diary=BOOKED.diary, starts_at=at(17), initiated_by="public",
        reason="duplicate", cancelled_at=T,
    )  # fmt: skip
    assert fold(lone) is None
