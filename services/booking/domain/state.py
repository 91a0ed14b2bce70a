"""One diary day: a station's day or a district diary car's day, and its appointments.

The aggregate whose stream is ``station:{station_id}:{YYYY-MM-DD}`` or
``diary-car:{district_id}:{YYYY-MM-DD}`` (the Europe/London date). Two call takers
racing for the same day append to the same stream, so the event store's unique
(stream, version) lets exactly one of them win.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentDisplaced,
    AppointmentMissed,
    AppointmentMovedOut,
    AppointmentOffered,
    AppointmentReassigned,
    AppointmentRescheduled,
    DiaryCarVisitBooked,
    OfferLapsed,
    Place,
    SlotBooked,
)
from services.common.reference import DiaryCar, District, Station

Status = Literal[
    "booked",
    "offered",
    "displaced",
    "attended",
    "missed",
    "cancelled",
    "moved-out",
    "lapsed",
]
# Every event a diary day's stream holds; ``evolve`` must handle each (mypy checks it does).
DiaryDayEvent = (
    SlotBooked
    | DiaryCarVisitBooked
    | AppointmentOffered
    | AppointmentRescheduled
    | AppointmentReassigned
    | AppointmentDisplaced
    | AppointmentMovedOut
    | AppointmentCancelled
    | AppointmentAttended
    | AppointmentMissed
    | OfferLapsed
)

# An appointment in one of these still holds its room (or diary-car place) and officer.
HOLDING: frozenset[Status] = frozenset({"booked", "offered", "attended", "missed"})


@dataclass(frozen=True)
class Diary:
    """Which day of which station or diary car."""

    place: Place
    place_id: str
    day: date

    @property
    def stream_id(self) -> str:
        """The event-store stream of this day."""
        return f"{self.place}:{self.place_id}:{self.day.isoformat()}"

    @classmethod
    def parse(cls, stream_id: str) -> Diary:
        """Read a stream id back; ValueError when it is not a diary day."""
        place, place_id, day = stream_id.split(":")
        if place not in ("station", "diary-car"):
            raise ValueError(f"not a diary stream: {stream_id!r}")
        return cls("station" if place == "station" else "diary-car", place_id, date.fromisoformat(day))


@dataclass(frozen=True)
class Appointment:
    """One appointment as the day knows it: its time, room, officer and status."""

    appointment_id: str
    starts_at: datetime
    ends_at: datetime
    room_id: str | None
    officer_id: str | None
    status: Status
    request_id: str | None = None
    offer_expires_at: datetime | None = None
    # The caller's key id: what a staff note about this appointment is sealed under.
    subject_id: str | None = None

    @property
    def holding(self) -> bool:
        """Whether it still occupies its room or diary-car place and its officer."""
        return self.status in HOLDING

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        """Whether it holds any part of [starts_at, ends_at)."""
        return self.holding and self.starts_at < ends_at and starts_at < self.ends_at


@dataclass(frozen=True)
class DiaryDay:
    """The state of one diary day; ``place`` and ``district`` are its reference data."""

    diary: Diary
    place: Station | DiaryCar
    district: District
    bank_holiday: str | None
    appointments: tuple[Appointment, ...] = ()

    def find(self, appointment_id: str) -> Appointment | None:
        """The appointment with this id, if the day has it."""
        return next((a for a in self.appointments if a.appointment_id == appointment_id), None)

    def holding(self) -> Iterator[Appointment]:
        """The appointments that occupy a room (or place) and an officer."""
        return (a for a in self.appointments if a.holding)

    @property
    def place_name(self) -> str:
        """How a call taker names the place: "Hertford station", "Dacorum diary car"."""
        return self.place.name if isinstance(self.place, DiaryCar) else f"{self.place.name} station"
