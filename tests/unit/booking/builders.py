"""Builders for diary-day tests: a sealed caller and briefing, London times, given / when."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schemas.base import DomainEvent
from schemas.booking import Briefing, CallerDetails, IncidentGrade
from schemas.personal import Sealed
from schemas.topics import BOOKING_EVENTS, ROSTER_EVENTS
from services.booking.adapters.memory_views import MemoryBookingViews
from services.booking.app.forms import BookingForm, BriefingForm, CallerForm
from services.booking.app.handlers import BookingHandlers
from services.booking.app.lifecycle import Lifecycle
from services.booking.app.roster_changes import RosterChanges
from services.booking.app.waitlist import WaitlistForm, WaitlistReactor, Waitlists
from services.booking.domain.commands import (
    BookDiaryCarVisit,
    BookStationSlot,
    Command,
    OfficerOnDuty,
    OnDuty,
)
from services.booking.domain.decider import decide, fold, initial_state
from services.booking.domain.state import Diary, DiaryDay
from services.booking.domain.waitlist import JoinWaitlist, Waitlist
from services.booking.domain.waitlist import decide as decide_waitlist
from services.booking.domain.waitlist import fold as fold_waitlist
from services.common.config import Settings
from services.common.consumer import Position
from services.common.memory_store import MemoryEventStore, MemoryUnit
from services.common.reference import County, load_county
from services.common.shredding import MemoryKeyStore
from services.common.staging import outgoing
from services.common.unit_of_work import Fold, Loaded, Metadata, S

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


def join(
    appointment_id: str, from_day: date = MONDAY, to_day: date = MONDAY, *, hold_seconds: int | None = None
) -> JoinWaitlist:
    """A caller joins Cheshunt's waitlist for a range of days (with their own hold of an offer)."""
    return JoinWaitlist(
        appointment_id=appointment_id,
        from_day=from_day,
        to_day=to_day,
        incident_grade="scheduled",
        caller=caller(),
        briefing=briefing(),
        offer_hold_seconds=hold_seconds,
        now=NOW,
    )


def waitlist_of(*joins: JoinWaitlist) -> Waitlist:
    """Cheshunt's waitlist after these callers joined, in order."""
    state = Waitlist("station", "cheshunt")
    for command in joins:
        state = fold_waitlist(state, decide_waitlist(command, state))
    return state


def hours(delta: float) -> timedelta:
    """A span of hours."""
    return timedelta(hours=delta)


# An in-memory booking service, for in-process handler tests of the waitlist.


def waitlist_form(
    from_day: date = MONDAY, to_day: date | None = None, *, place_id: str = "cheshunt", **extra: object
) -> WaitlistForm:
    """A caller for whom nothing suited, waiting at a station (Cheshunt) for some days."""
    return WaitlistForm.model_validate(
        {
            "place": "station", "place_id": place_id, "from_day": from_day, "to_day": to_day or from_day,
            "incident_grade": "scheduled", "caller": caller_form(), "briefing": briefing_form(), **extra,
        }
    )  # fmt: skip


def booking_form(day: date = MONDAY, hour: int = 17) -> BookingForm:
    """A call taker's booking of a station slot, personal data still in clear."""
    return BookingForm(
        day=day, start=time(hour), incident_grade="scheduled", caller=caller_form(), briefing=briefing_form()
    )


def caller_form() -> CallerForm:
    """A caller as the call taker types them (Ofcom's drama range: accepted outside production)."""
    return CallerForm(name="Jane Citizen", phone="07700 900123")


def briefing_form() -> BriefingForm:
    """A briefing as the call taker types it."""
    return BriefingForm(
        case_reference="41/12345/26", summary="Bike stolen from a shed", thrive_risk="low",
        safe_to_text=True, safe_to_call=True,
    )  # fmt: skip


class CountingStore(MemoryEventStore[MemoryBookingViews]):
    """The in-memory store, remembering every stream a unit loaded."""

    def __init__(self, source: str) -> None:
        super().__init__(source, lambda _: MemoryBookingViews())
        self.loaded: list[str] = []

    @asynccontextmanager
    async def unit(self, within: Any = None) -> AsyncIterator[MemoryUnit[MemoryBookingViews]]:
        """A unit of work whose loads are counted."""
        unit = _CountingUnit(self)
        yield unit
        unit.commit()


class _CountingUnit(MemoryUnit[MemoryBookingViews]):
    def __init__(self, store: CountingStore) -> None:
        super().__init__(store)
        self._counting = store

    async def load(self, fold: Fold[S, Any], stream_ids: Sequence[str]) -> list[Loaded[S]]:
        self._counting.loaded.extend(stream_ids)
        return await super().load(fold, stream_ids)


class Booking:
    """Booking's handlers over the in-memory store, its clock, and booking.events fed to the reactor
    as Kafka would feed them (``deliver``)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now
        self.store = CountingStore("urn:appointments:booking")
        self.handlers = BookingHandlers(self.store, MemoryKeyStore(), Settings(), self.store.source)
        self.reactor = WaitlistReactor(self.handlers, timedelta(hours=2), clock=lambda: self.now)
        self.delivered = 0

    @property
    def views(self) -> MemoryBookingViews:
        """Booking's tables."""
        return self.store.views

    def meta(self) -> Metadata:
        """A call taker's metadata, now."""
        return Metadata(correlation_id="test", actor="call-taker:test", now=self.now)

    async def start(self, *officers: tuple[str, str, Diary]) -> Booking:
        """Load the county, and put officers on appointment duty (id, duty, day) 8am to 10pm."""
        await self.handlers.seed_reference(COUNTY, self.meta())
        for officer_id, duty_id, diary in officers:
            await self.views.record_duty(
                duty_id, officer_id, "appointments", diary.place_id, "broxbourne",
                at(diary.day, 8), at(diary.day, 22),
            )  # fmt: skip
        return self

    async def deliver(self) -> list[str]:
        """Feed every booking event not yet delivered to the reactor, until it has nothing to add;
        returns the types of the events its reactions recorded."""
        made: list[str] = []
        while self.delivered < len(self.store.outbox):
            item = self.store.outbox[self.delivered]
            self.delivered += 1
            before = len(self.store.outbox)
            if item.topic == BOOKING_EVENTS:
                await self.reactor.apply(None, item.envelope, Position(item.topic, 0, self.delivered))
            made += [o.envelope.event_type for o in self.store.outbox[before:]]
        return made

    async def fill(self, day: date = MONDAY, station_id: str = "cheshunt") -> dict[int, str]:
        """Book every slot of a station's day (5pm, 6pm, 7pm); their appointment ids by hour."""
        booked = {}
        for hour in (17, 18, 19):
            made = await self.handlers.book("station", station_id, booking_form(day, hour), self.meta())
            booked[hour] = made.appointment_id
        return booked

    async def cancel(self, appointment_id: str) -> None:
        """The caller cancels an appointment."""
        await Lifecycle(self.handlers).cancel(appointment_id, "public", "no-longer-needed", self.meta())

    async def join(self, form: WaitlistForm) -> str:
        """A caller joins a waitlist; their entry id."""
        entry, _ = await Waitlists(self.handlers).join(form, self.meta())
        return entry

    async def status(self, entry: str) -> str:
        """Where a waitlist entry stands: waiting, offered, booked or left."""
        return (await Waitlists(self.handlers).status(entry)).state

    async def roster(self, event: DomainEvent) -> None:
        """Booking's roster consumer applies one roster event, as from roster.events."""
        sent = outgoing(event, f"officer:{event.stream_key()}", "urn:appointments:roster", self.meta())
        await RosterChanges(self.handlers).apply(None, sent.envelope, Position(ROSTER_EVENTS, 0, 0))

    def events_of(self, appointment_id: str) -> list[str]:
        """The types of every event recorded about one appointment (or entry), in order."""
        return [o.envelope.event_type for o in self.store.outbox if o.key == appointment_id]
