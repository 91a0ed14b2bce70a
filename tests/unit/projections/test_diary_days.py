"""The diary-days index: every day an appointment was on, so the diary as it stood reads only those."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from schemas.booking import (
    AppointmentCancelled,
    AppointmentRescheduled,
    Briefing,
    CallerDetails,
    SlotBooked,
)
from schemas.personal import Sealed
from services.projections.domain.diary import DiaryEntry
from services.projections.domain.diary_days import Day, Fact, as_it_stood, fold

SEALED = Sealed(subject_id="subject-1", nonce="bm9uY2U=", ciphertext="Y2lwaGVy")
STEVENAGE_2, STEVENAGE_3 = (
    ("station", "stevenage", date(2026, 12, 2)),
    ("station", "stevenage", date(2026, 12, 3)),
)
HITCHIN_2 = ("station", "hitchin", date(2026, 12, 2))


def slot(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def clock(minute: int) -> datetime:
    """When something was decided: minutes after 10am on 30 November."""
    return datetime(2026, 11, 30, 10, tzinfo=UTC) + timedelta(minutes=minute)


def fact(event: SlotBooked | AppointmentRescheduled | AppointmentCancelled, minute: int) -> Fact:
    return Fact(event.appointment_id, uuid.uuid4(), clock(minute), event)


def booked(appointment_id: str, station: str, day: int, hour: int) -> SlotBooked:
    return SlotBooked(
        appointment_id=appointment_id, diary=f"station:{station}:2026-12-0{day}", station_id=station,
        district_id=station, room_id=f"{station}-room-1", officer_id="o-1", starts_at=slot(day, hour),
        ends_at=slot(day, hour + 1), caller=CallerDetails(subject_id="subject-1", name=SEALED),
        briefing=Briefing(
            case_reference="41/1/26", summary=SEALED, thrive_risk="low", safe_to_text=True, safe_to_call=True
        ),
        booked_at=clock(0),
    )  # fmt: skip


def moved(appointment_id: str, to_day: int, hour: int) -> AppointmentRescheduled:
    return AppointmentRescheduled(
        appointment_id=appointment_id, diary=f"station:stevenage:2026-12-0{to_day}",
        from_diary="station:stevenage:2026-12-02", from_starts_at=slot(2, 17), from_ends_at=slot(2, 18),
        starts_at=slot(to_day, hour), ends_at=slot(to_day, hour + 1), room_id="stevenage-room-1",
        officer_id="o-1", initiated_by="police", reason="officer-withdrawn", caller_to_be_told=True,
        rescheduled_at=clock(0),
    )  # fmt: skip


def cancelled(appointment_id: str) -> AppointmentCancelled:
    return AppointmentCancelled(
        appointment_id=appointment_id, diary="station:stevenage:2026-12-03", starts_at=slot(3, 9),
        initiated_by="public", reason="no-longer-needed", cancelled_at=clock(0),
    )  # fmt: skip


# "a" is booked on the 2nd and moved to the 3rd; "b" is at another station; "c" is cancelled.
HISTORY = [
    fact(booked("a", "stevenage", 2, 17), 0),
    fact(booked("b", "hitchin", 2, 17), 5),
    fact(booked("c", "stevenage", 3, 9), 10),
    fact(moved("a", 3, 18), 20),
    fact(cancelled("c"), 30),
]


def shown(entries: list[DiaryEntry]) -> list[tuple[str, str]]:
    return [(e.appointment_id, e.status) for e in entries]


def full_fold_as_at(facts: list[Fact], day: Day, instant: datetime) -> list[DiaryEntry]:
    """The diary as it stood, folding every event of the county (what the index must equal)."""
    return as_it_stood(((f.appointment_id, f.event) for f in facts if f.occurred_at <= instant), day)


def indexed_as_at(facts: list[Fact], day: Day, instant: datetime) -> list[DiaryEntry]:
    """The diary as it stood, folding only the appointments the index has on that day by then."""
    days = fold({}, facts).days
    wanted = {a for (d, a), since in days.items() if d == day and since <= instant}
    chosen = (f for f in facts if f.appointment_id in wanted and f.occurred_at <= instant)
    return as_it_stood(((f.appointment_id, f.event) for f in chosen), day)


def test_a_moved_appointment_is_indexed_on_both_days_each_since_it_got_there() -> None:
    days = fold({}, HISTORY).days
    assert days[(STEVENAGE_2, "a")] == clock(0) and days[(STEVENAGE_3, "a")] == clock(20)
    assert days[(HITCHIN_2, "b")] == clock(5)
    assert (STEVENAGE_2, "b") not in days and (HITCHIN_2, "a") not in days


def test_the_fold_reports_each_changed_entry_with_the_event_that_last_changed_it() -> None:
    entries: dict[str, DiaryEntry] = {}
    folded = fold(entries, HISTORY)
    assert set(folded.changed) == {"a", "b", "c"}
    entry, event_id = folded.changed["a"]
    assert entry.status == "rescheduled" and event_id == HISTORY[3].event_id
    assert entries["c"].status == "cancelled"  # the working state moved on too


def test_before_the_move_the_appointment_is_on_its_first_day_and_after_it_only_on_the_new_one() -> None:
    before, after = clock(19), clock(20)
    assert shown(indexed_as_at(HISTORY, STEVENAGE_2, before)) == [("a", "booked")]
    assert shown(indexed_as_at(HISTORY, STEVENAGE_3, before)) == [("c", "booked")]
    assert shown(indexed_as_at(HISTORY, STEVENAGE_2, after)) == []
    assert shown(indexed_as_at(HISTORY, STEVENAGE_3, after)) == [("c", "booked"), ("a", "rescheduled")]
    assert shown(indexed_as_at(HISTORY, HITCHIN_2, after)) == [("b", "booked")]
    assert shown(indexed_as_at(HISTORY, STEVENAGE_3, clock(-1))) == []


def test_the_index_answers_as_the_fold_over_every_event_at_every_instant() -> None:
    # Instants that run backwards too: a move decided on a clock a minute behind the booking's.
    skewed = [*HISTORY, fact(booked("d", "stevenage", 2, 19), 40), fact(moved("d", 3, 20), 39)]
    for day in (STEVENAGE_2, STEVENAGE_3, HITCHIN_2):
        for minute in range(-1, 45):
            instant = clock(minute)
            assert indexed_as_at(skewed, day, instant) == full_fold_as_at(skewed, day, instant), (day, minute)
