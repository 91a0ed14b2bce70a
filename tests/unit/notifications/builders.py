"""Builders for the notifications deciders: booking's events for one caller, London times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schemas.booking import Briefing, CallerDetails, DiaryCarVisitBooked, SlotBooked
from schemas.personal import Sealed
from services.common.london import LONDON
from services.notifications.domain.decider import Rules

APPOINTMENT = "a0000000-0000-4000-8000-000000000001"
RULES = Rules(stations={"stevenage": "Stevenage", "bishops-stortford": "Bishop's Stortford"})


def sealed(subject: str = "subject-1") -> Sealed:
    """A sealed value (the deciders never open one)."""
    return Sealed(subject_id=subject, nonce="bm9uY2U", ciphertext="Y2lwaGVy")


def london(day: date, at: time) -> datetime:
    """A London wall-clock time as a UTC instant."""
    return datetime.combine(day, at, LONDON).astimezone(UTC)


def briefing(**changes: Any) -> Briefing:
    """A briefing whose case details are sealed; safe to text unless said otherwise."""
    values: dict[str, Any] = {
        "case_reference": "41/12345/26",
        "summary": sealed(),
        "thrive_risk": "low",
        "safe_to_text": True,
        "safe_to_call": True,
    }
    return Briefing(**(values | changes))


def caller(phone: bool = True) -> CallerDetails:
    """The caller, sealed."""
    return CallerDetails(subject_id="subject-1", name=sealed(), phone=sealed() if phone else None)


def slot_booked(
    starts_at: datetime, booked_at: datetime, *, station: str = "stevenage", **briefed: Any
) -> SlotBooked:
    """A station appointment of an hour from ``starts_at``."""
    return SlotBooked(
        appointment_id=APPOINTMENT,
        diary=f"station:{station}:{starts_at.astimezone(LONDON).date()}",
        station_id=station,
        district_id="stevenage",
        room_id=f"{station}-room-1",
        officer_id="officer-1",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        caller=caller(),
        briefing=briefing(**briefed),
        booked_at=booked_at,
    )


def visit_booked(starts_at: datetime, ends_at: datetime, booked_at: datetime) -> DiaryCarVisitBooked:
    """A diary-car home visit in a window."""
    return DiaryCarVisitBooked(
        appointment_id=APPOINTMENT,
        diary=f"diary-car:stevenage:{starts_at.astimezone(LONDON).date()}",
        district_id="stevenage",
        diary_car_id="stevenage-diary-car",
        officer_id=None,
        window_starts_at=starts_at,
        window_ends_at=ends_at,
        caller=caller(),
        briefing=briefing(),
        booked_at=booked_at,
    )
