"""Builders for diary-day tests: a sealed caller and briefing, London times, given / when."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schemas.base import DomainEvent
from schemas.booking import Briefing, CallerDetails, IncidentGrade
from schemas.personal import Sealed
from services.booking.domain.commands import (
    BookDiaryCarVisit,
    BookStationSlot,
    Command,
    OfficerOnDuty,
    OnDuty,
)
from services.booking.domain.decider import decide, fold, initial_state
from services.booking.domain.state import Diary, DiaryDay
from services.booking.domain.waitlist import JoinWaitlist
from services.common.reference import County, load_county

COUNTY: County = load_county()
LONDON = ZoneInfo("Europe/London")
# Monday 15 June 2026: Hertford and Cheshunt open, slots at 5pm, 6pm, 7pm (BST, UTC+1).
MONDAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


def sealed(subject: str = "subject-1") -> Sealed:
    """A sealed value as the handler would hand it over (the domain never opens it)."""
    return Sealed(subject_id=subject, nonce="bm9uY2U", ciphertext="Y2lwaGVy")


def caller(subject: str = "subject-1", *, address: bool = True) -> CallerDetails:
    """A caller whose personal data is sealed under their own key."""
    return CallerDetails(
        subject_id=subject,
        name=sealed(subject),
        phone=sealed(subject),
        address=sealed(subject) if address else None,
    )


def briefing() -> Briefing:
    """A briefing for a non-urgent report."""
    return Briefing(
        case_reference="41/12345/26",
        summary=sealed(),
        thrive_risk="low",
        safe_to_text=True,
        safe_to_call=True,
    )


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def station_day(station_id: str = "cheshunt", day: date = MONDAY) -> Diary:
    """The diary of one station's day."""
    return Diary("station", station_id, day)


def diary_car_day(district_id: str = "dacorum", day: date = MONDAY) -> Diary:
    """The diary of one district diary car's day."""
    return Diary("diary-car", district_id, day)


def on_duty(*officers: str, day: date = MONDAY, start: int = 8, end: int = 22) -> tuple[OfficerOnDuty, ...]:
    """Officers on appointment duty for a span of the day (London hours)."""
    return tuple(
        OfficerOnDuty(officer_id=o, starts_at=at(day, start), ends_at=at(day, end)) for o in officers
    )


def book_station(
    appointment_id: str = "apt-1",
    hour: int = 17,
    *,
    station_id: str = "cheshunt",
    day: date = MONDAY,
    grade: IncidentGrade = "scheduled",
    officers: OnDuty = None,
    now: datetime = NOW,
    minute: int = 0,
) -> BookStationSlot:
    """A call taker books a station slot."""
    return BookStationSlot(
        appointment_id=appointment_id,
        station_id=station_id,
        day=day,
        start=time(hour, minute),
        incident_grade=grade,
        caller=caller(),
        briefing=briefing(),
        on_duty=officers,
        now=now,
    )


def book_visit(
    appointment_id: str = "visit-1",
    hour: int = 8,
    *,
    district_id: str = "dacorum",
    day: date = MONDAY,
    officers: OnDuty = None,
    now: datetime = NOW,
    address: bool = True,
) -> BookDiaryCarVisit:
    """A call taker books a diary-car home visit."""
    return BookDiaryCarVisit(
        appointment_id=appointment_id,
        district_id=district_id,
        day=day,
        start=time(hour),
        incident_grade="scheduled",
        caller=caller(address=address),
        briefing=briefing(),
        on_duty=officers,
        now=now,
    )


def given(diary: Diary, *history: Command) -> DiaryDay:
    """A day after these commands were decided and their events applied, in order."""
    return after(initial_state(diary, COUNTY), *history)


def after(state: DiaryDay, *history: Command) -> DiaryDay:
    """A given day after these commands were decided and their events applied, in order."""
    for command in history:
        state = fold(state, decide(command, state))
    return state


def given_events(diary: Diary, *events: DomainEvent) -> DiaryDay:
    """A day after these events."""
    return fold(initial_state(diary, COUNTY), events)


def join(appointment_id: str, from_day: date = MONDAY, to_day: date = MONDAY) -> JoinWaitlist:
    """A caller joins Cheshunt's waitlist for a range of days."""
    return JoinWaitlist(
        appointment_id=appointment_id,
        from_day=from_day,
        to_day=to_day,
        incident_grade="scheduled",
        caller=caller(),
        briefing=briefing(),
        now=NOW,
    )


def hours(delta: float) -> timedelta:
    """A span of hours."""
    return timedelta(hours=delta)
