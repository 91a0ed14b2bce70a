"""Booking's views in memory: the same questions as ``views.BookingViews``, for in-process tests.

No exclusion backstops here (the decider is what the handler tests exercise); every
write lands at once, shared by all units of the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentCancelled,
    AppointmentOffered,
    DiaryCarVisitBooked,
    OfferLapsed,
    Place,
    SlotBooked,
    WaitlistJoined,
    WaitlistLeft,
)
from services.booking.adapters.placements import placements_of
from services.booking.adapters.roster_facts import (
    DutySpan,
    Withdrawn,
    on_duty_by_day,
    places_touched,
)
from services.booking.app.ports import BookingFacts, Entry, RequestUse
from services.booking.domain.commands import OfficerOnDuty
from services.booking.domain.state import Diary
from services.common.eventstore import StreamConflict


@dataclass
class Duty:
    """A capacity duty as booking keeps it."""

    officer_id: str
    duty: str
    station_id: str | None
    district_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class MemoryBookingViews:
    """Booking's tables as dictionaries."""

    duties: dict[str, Duty] = field(default_factory=dict)
    withdrawals: dict[str, Withdrawn] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    # entry: waitlist stream, booked, left
    entries: dict[str, tuple[str, bool | None, bool]] = field(default_factory=dict)
    requests: dict[str, tuple[str, str]] = field(default_factory=dict)  # appointment, fingerprint
    days_wanted: dict[str, tuple[date, date]] = field(default_factory=dict)  # entry: from, to
    # caller: diary-day stream, expires
    deadlines: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    async def on_duty(self, diary: Diary) -> tuple[OfficerOnDuty, ...]:
        """The officers on duty for a diary day, net of withdrawals."""
        return (await self.on_duty_days(diary.place, diary.place_id, diary.day, diary.day))[diary.day]

    async def on_duty_days(
        self, place: Place, place_id: str, first: date, last: date
    ) -> dict[date, tuple[OfficerOnDuty, ...]]:
        """Who gives capacity on each day of a range."""
        duty = "appointments" if place == "station" else "diary-car"
        spans = [
            DutySpan(d.officer_id, d.starts_at, d.ends_at)
            for d in self.duties.values()
            if d.duty == duty and (d.station_id if duty == "appointments" else d.district_id) == place_id
        ]
        return on_duty_by_day(spans, list(self.withdrawals.values()), first, last)

    async def places_of(self, officer_id: str, starts_at: datetime, ends_at: datetime) -> list[Diary]:
        """The diary days an officer's capacity duties touch within a span."""
        return places_touched(
            (d.duty, d.station_id, d.district_id, max(d.starts_at, starts_at), min(d.ends_at, ends_at))
            for d in self.duties.values()
            if d.officer_id == officer_id and d.starts_at < ends_at and d.ends_at > starts_at
        )

    async def record_duty(
        self, duty_id: str, officer_id: str, duty: str, station_id: str | None, district_id: str,
        starts_at: datetime, ends_at: datetime,
    ) -> None:  # fmt: skip
        """Keep a capacity duty (once)."""
        self.duties.setdefault(duty_id, Duty(officer_id, duty, station_id, district_id, starts_at, ends_at))

    async def planned_end(self, duty_id: str) -> datetime | None:
        """When a capacity duty was planned to end."""
        found = self.duties.get(duty_id)
        return found.ends_at if found else None

    async def end_duty(self, duty_id: str, ends_at: datetime) -> None:
        """A duty ended early."""
        self.duties[duty_id].ends_at = ends_at

    async def record_withdrawal(
        self, withdrawal_id: str, officer_id: str, starts_at: datetime, ends_at: datetime, reason: str
    ) -> bool:
        """Keep a withdrawal; False when known already."""
        if withdrawal_id in self.withdrawals:
            return False
        self.withdrawals[withdrawal_id] = Withdrawn(officer_id, starts_at, ends_at)
        return True

    async def announce(self, channel: str) -> None:
        """One process in memory: nobody else to tell."""

    async def locate(self, appointment_id: str) -> str | None:
        """The diary-day stream an appointment lives in now."""
        return self.locations.get(appointment_id)

    async def placed_days(
        self, stations: Sequence[str], districts: Sequence[str], first: date
    ) -> list[Diary]:
        """The diary days from ``first`` on where appointments at these stations or diary cars were placed."""
        wanted = {("station", s) for s in stations} | {("diary-car", d) for d in districts}
        days = {Diary.parse(stream) for stream in self.locations.values()}
        found = (d for d in days if (d.place, d.place_id) in wanted and d.day >= first)
        return sorted(found, key=lambda d: d.stream_id)

    async def record_placement(
        self, events: Sequence[DomainEvent], request: RequestUse | None = None
    ) -> None:
        """Keep appointment locations (and the request id used) in step with the events decided."""
        if request is not None:
            if request.request_id in self.requests:
                raise StreamConflict(f"request:{request.request_id}", 0)
            self.requests[request.request_id] = (request.appointment_id, request.fingerprint)
        for placed in placements_of(events):
            if placed.stream_id is not None:
                self.locations[placed.appointment_id] = placed.stream_id

    async def booking_facts(self, diary: Diary, request_id: str | None) -> BookingFacts:
        """Who is on duty that day, and what the request id was used for."""
        used = self.requests.get(request_id) if request_id else None
        return BookingFacts(await self.on_duty(diary), used[1] if used else None)

    async def entry_of(self, appointment_id: str) -> Entry | None:
        """The waitlist an entry is on, and whether it left."""
        found = self.entries.get(appointment_id)
        return None if found is None else Entry(found[0], found[2], found[1])

    async def record_waitlist(self, events: Sequence[DomainEvent]) -> None:
        """Keep the entries, their days and the offers' deadlines in step with the events decided."""
        for event in events:
            match event:
                case WaitlistJoined():
                    if event.appointment_id in self.entries:
                        raise ValueError(f"entry {event.appointment_id} is on a waitlist already")
                    self.entries[event.appointment_id] = (event.diary, None, False)
                    self.days_wanted[event.appointment_id] = (event.from_day, event.to_day)
                case WaitlistLeft():
                    waitlist_stream = self.entries[event.appointment_id][0]
                    self.entries[event.appointment_id] = (waitlist_stream, event.booked, True)
                case SlotBooked() | DiaryCarVisitBooked() | AppointmentCancelled() | OfferLapsed():
                    await self.forget_offer(event.appointment_id, event.diary)
                case AppointmentOffered():
                    if event.appointment_id in self.deadlines:
                        raise StreamConflict("offer_deadlines", 0)  # one offer a caller
                    self.deadlines[event.appointment_id] = (event.diary, event.expires_at)

    async def waiting_on(self, waitlist_stream: str, first: date, last: date) -> bool:
        """Whether anyone still waits on this waitlist for a day from ``first`` to ``last``."""
        return any(
            w == waitlist_stream and not left and self._days(a)[0] <= last and self._days(a)[1] >= first
            for a, (w, _, left) in self.entries.items()
        )

    async def offers_held(self, appointment_ids: Sequence[str]) -> set[str]:
        """Which of these callers hold an offer now."""
        return set(appointment_ids) & self.deadlines.keys()

    async def forget_offer(self, appointment_id: str, diary_stream: str) -> None:
        """An offer on that day ended: no deadline now."""
        if self.deadlines.get(appointment_id, ("", None))[0] == diary_stream:
            del self.deadlines[appointment_id]

    async def deadlines_due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(appointment id, diary-day stream) of offers whose time is up, earliest first."""
        due = sorted((at, a, d) for a, (d, at) in self.deadlines.items() if at <= now)
        return [(a, d) for _, a, d in due[:limit]]

    async def next_deadline(self) -> datetime | None:
        """When the next offer standing lapses."""
        return min((at for _, at in self.deadlines.values()), default=None)

    async def entries_over(self, today: date) -> list[tuple[str, str]]:
        """(appointment id, waitlist stream) of the callers still waiting whose last day is before today."""
        return [(a, w) for a, (w, _, left) in self.entries.items() if not left and self._days(a)[1] < today]

    def _days(self, appointment_id: str) -> tuple[date, date]:
        # An entry without its days may want any day, as PostgreSQL's coalesce reads rows from
        # before the days were kept.
        return self.days_wanted.get(appointment_id, (date.min, date.max))
