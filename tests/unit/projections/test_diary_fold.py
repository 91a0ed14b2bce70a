"""The diary read model is a pure fold: each booking event moves one appointment's line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import reduce

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentCancelled,
    AppointmentOffered,
    AppointmentReassigned,
    AppointmentRescheduled,
    Briefing,
    CallerDetails,
    DiaryCarVisitBooked,
    Slot,
    SlotBooked,
)
from schemas.personal import Sealed
from services.projections.domain.diary import DiaryEntry, apply
from services.projections.domain.diary_days import as_it_stood, day_of

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
            starts_at=at(17), ends_at=at(18), reason="officer-withdrawn", reassigned_at=T,
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
            room_id="stevenage-room-1", officer_id="o-1", initiated_by="police", reason="officer-withdrawn",
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


DACORUM_DAY = "diary-car:dacorum:2026-12-02"


def visit(appointment_id: str, hour: int) -> DiaryCarVisitBooked:
    return DiaryCarVisitBooked(
        appointment_id=appointment_id, diary=DACORUM_DAY, district_id="dacorum",
        diary_car_id="dacorum-diary-car", officer_id="o-9", window_starts_at=at(hour),
        window_ends_at=at(hour + 2), caller=BOOKED.caller, briefing=BOOKED.briefing, booked_at=T,
    )  # fmt: skip


def window_offered(appointment_id: str, hour: int) -> AppointmentOffered:
    """A diary-car window held for a waiting caller: booking's slot names the district."""
    return AppointmentOffered(
        appointment_id=appointment_id, diary=DACORUM_DAY, officer_id="o-9", expires_at=at(9),
        slot=Slot(place="diary-car", place_id="dacorum", starts_at=at(hour), ends_at=at(hour + 2)),
        offered_at=T,
    )  # fmt: skip


def test_a_diary_car_visit_is_on_its_districts_diary_car_day_and_keeps_the_cars_own_id() -> None:
    entry = fold(visit("v-1", 10))
    assert entry is not None
    assert (entry.place, entry.place_id, entry.district_id, entry.diary_car_id, entry.diary_stream) == (
        "diary-car", "dacorum", "dacorum", "dacorum-diary-car", DACORUM_DAY,
    )  # fmt: skip


def test_a_diary_car_window_held_for_a_waiting_caller_shows_in_the_same_diary_as_its_visits() -> None:
    history = [("v-1", visit("v-1", 10)), ("w-1", window_offered("w-1", 14))]
    day = ("diary-car", "dacorum", date(2026, 12, 2))
    shown = [(e.appointment_id, e.status) for e in as_it_stood(history, day)]
    assert shown == [("v-1", "booked"), ("w-1", "offered")]
    offered = fold(window_offered("w-1", 14))
    assert offered is not None and (offered.district_id, offered.diary_car_id) == ("dacorum", None)


def test_a_held_window_taken_by_the_caller_stays_on_that_diary_car_day_as_booked() -> None:
    entry = fold(window_offered("w-1", 14), visit("w-1", 14))
    offered = fold(window_offered("w-1", 14))
    assert entry is not None and offered is not None
    assert day_of(entry) == day_of(offered) == ("diary-car", "dacorum", date(2026, 12, 2))
    assert (entry.status, entry.diary_car_id) == ("booked", "dacorum-diary-car")
