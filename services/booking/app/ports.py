"""What booking's handlers need from the outside, as small protocols (adapters implement them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple, Protocol

from schemas.base import DomainEvent
from schemas.booking import Place
from services.booking.domain.commands import OfficerOnDuty
from services.booking.domain.state import Diary
from services.common.unit_of_work import EventStore, Unit


class Entry(NamedTuple):
    """A waitlist entry as booking's index keeps it."""

    waitlist_stream: str
    left: bool
    booked: bool | None


OnDutyToday = tuple[OfficerOnDuty, ...]


class BookingFacts(NamedTuple):
    """What a booking needs to know besides its day: who is on duty, what its request id did."""

    on_duty: OnDutyToday
    request_used: str | None  # the fingerprint the request id booked under; None: never used


class RequestUse(NamedTuple):
    """A request id, the appointment it booked, and a fingerprint of what it asked for."""

    request_id: str
    appointment_id: str
    fingerprint: str


class Views(Protocol):
    """Booking's own tables and outside facts, read and written inside a unit of work."""

    async def on_duty(self, diary: Diary) -> tuple[OfficerOnDuty, ...]:
        """The officers on duty for a diary day, net of withdrawals."""
        ...

    async def on_duty_days(
        self, place: Place, place_id: str, first: date, last: date
    ) -> dict[date, tuple[OfficerOnDuty, ...]]:
        """Who gives capacity on each day of a range."""
        ...

    async def places_of(self, officer_id: str, starts_at: datetime, ends_at: datetime) -> list[Diary]:
        """The diary days an officer's capacity duties touch within a span."""
        ...

    async def record_duty(
        self, duty_id: str, officer_id: str, duty: str, station_id: str | None, district_id: str,
        starts_at: datetime, ends_at: datetime,
    ) -> None:  # fmt: skip
        """Keep a capacity duty (once)."""
        ...

    async def planned_end(self, duty_id: str) -> datetime | None:
        """When a capacity duty was planned to end."""
        ...

    async def end_duty(self, duty_id: str, ends_at: datetime) -> None:
        """A duty ended early."""
        ...

    async def record_withdrawal(
        self, withdrawal_id: str, officer_id: str, starts_at: datetime, ends_at: datetime, reason: str
    ) -> bool:
        """Keep a withdrawal; False when known already."""
        ...

    async def announce(self, channel: str) -> None:
        """Tell every booking process, once this unit commits, that something on ``channel`` changed."""
        ...

    async def locate(self, appointment_id: str) -> str | None:
        """The diary-day stream an appointment lives in now."""
        ...

    async def placed_days(
        self, stations: Sequence[str], districts: Sequence[str], first: date
    ) -> list[Diary]:
        """The diary days from ``first`` on where appointments at these stations or diary cars
        were placed (cancelled or not: the days themselves say)."""
        ...

    async def booking_facts(self, diary: Diary, request_id: str | None) -> BookingFacts:
        """Who is on duty that day, and what the request id was used for, in one read."""
        ...

    async def record_placement(
        self, events: Sequence[DomainEvent], request: RequestUse | None = None
    ) -> None:
        """Keep locations and holds in step with the events decided (and the request id used)."""
        ...

    async def entry_of(self, appointment_id: str) -> Entry | None:
        """The waitlist an entry is on, and whether it left (booked or not)."""
        ...

    async def record_waitlist(self, events: Sequence[DomainEvent]) -> None:
        """Keep the waitlist entries (with their days) and the offers' deadlines in step with the
        events decided; a second offer standing for one caller is a conflict."""
        ...

    async def waiting_on(self, waitlist_stream: str, first: date, last: date) -> bool:
        """Whether anyone still waits on this waitlist for a day from ``first`` to ``last``."""
        ...

    async def offers_held(self, appointment_ids: Sequence[str]) -> set[str]:
        """Which of these callers hold an offer now."""
        ...

    async def forget_offer(self, appointment_id: str, diary_stream: str) -> None:
        """An offer on that day ended elsewhere (a withdrawal, a cancellation): no deadline now."""
        ...

    async def deadlines_due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(appointment id, diary-day stream) of offers whose time is up, earliest first."""
        ...

    async def next_deadline(self) -> datetime | None:
        """When the next offer standing lapses."""
        ...

    async def entries_over(self, today: date) -> list[tuple[str, str]]:
        """(appointment id, waitlist stream) of the callers still waiting whose last day is before today."""
        ...


BookingStore = EventStore[Views]
BookingUnit = Unit[Views]
