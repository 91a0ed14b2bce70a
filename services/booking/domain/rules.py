"""The checks every booking passes: grade, go-live, open day, real time, opening hours, future."""

from __future__ import annotations

from datetime import datetime, time

from schemas.booking import IncidentGrade
from services.booking.domain.calendar import (
    openings,
    spoken_day,
    spoken_span,
    to_utc,
)
from services.booking.domain.errors import (
    ClosedDay,
    EmergencyResponse,
    InThePast,
    NotLiveYet,
    OutsideOpeningHours,
    Refusal,
)
from services.booking.domain.state import DiaryDay
from services.common.london import spoken_clock as spoken_time
from services.common.london import spoken_moment
from services.common.reference import DiaryCar


def check_grade(grade: IncidentGrade) -> None:
    """Urgent and priority incidents keep the emergency response."""
    if grade in ("urgent", "priority"):
        raise EmergencyResponse(grade)


def day_refusal(state: DiaryDay) -> Refusal | None:
    """Why the place takes no appointments on this day, or None when it does."""
    day, district, place = state.diary.day, state.district, state.place
    if day < district.scheduled_appointments_from:
        return NotLiveYet(
            "day",
            f"{district.name} began scheduled appointments on "
            f"{spoken_day(district.scheduled_appointments_from)}",
        )
    if not isinstance(place, DiaryCar) and place.appointments_from and day < place.appointments_from:
        return NotLiveYet("day", f"station appointments began on {spoken_day(place.appointments_from)}")
    if not openings(place, day):
        return ClosedDay("day", f"{state.place_name} takes no appointments on {day:%A}s")
    opens = place.runs_on_bank_holidays if isinstance(place, DiaryCar) else place.open_on_bank_holidays
    if state.bank_holiday and not opens:
        return ClosedDay(
            "day",
            f"{state.place_name} takes no appointments on bank holidays "
            f"({state.bank_holiday}, {spoken_day(day)})",
        )
    return None


def check_day(state: DiaryDay) -> None:
    """Refuse when the place takes no appointments on this day."""
    refusal = day_refusal(state)
    if refusal is not None:
        raise refusal


def resolve_time(state: DiaryDay, start: time) -> tuple[datetime, datetime]:
    """The UTC span of the slot or window starting at a local time; refused when there is none."""
    day = state.diary.day
    starts_at = to_utc(day, start)
    for opening, closing in openings(state.place, day):
        if opening == start:
            return starts_at, to_utc(day, closing, field="start")
    times = openings(state.place, day)
    if not times:
        raise ClosedDay("day", f"{state.place_name} takes no appointments on {day:%A}s")
    kind = "windows" if isinstance(state.place, DiaryCar) else "slots"
    listed = ", ".join(spoken_time(s) for s, _ in times)
    raise OutsideOpeningHours(
        "start",
        f"{state.place_name} has {kind} starting at {listed} on {spoken_day(day)} "
        f"({spoken_span(times[0][0], times[-1][1])}); {spoken_time(start)} is not one of them",
    )


def check_future(starts_at: datetime, now: datetime) -> None:
    """Refuse a slot that has already begun."""
    if starts_at <= now:
        raise InThePast(
            "start",
            f"{spoken_moment(starts_at)} has already begun",
        )
