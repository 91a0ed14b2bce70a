"""The waitlist: when nothing suits, a caller waits for a station or diary car over a few days,
and capacity that frees up is offered to the first caller waiting whose days include it.

Joining seals the caller's details as a booking does and records ``WaitlistJoined`` on the
waitlist stream (``waitlist:{place}:{place_id}``); the entry id is the appointment id the caller
will be booked under. The offer process (``WaitlistOffers``, one at a time per database, woken
by booking's own appends and by the clock) makes every step a command on its own stream:

- an offer past its time lapses: ``LapseOffer`` on its day (``OfferLapsed``);
- a caller whose days have all gone leaves: ``LeaveWaitlist`` (``WaitlistLeft``, not booked);
- a free slot on a day someone waits for is held for the first caller waiting whose days
  include it and who holds no other offer: ``OfferFreedSlot`` (``AppointmentOffered``).

It looks at every free slot of the days wanted, not only at what changed, so a cancellation,
a lapse, a decline and new duty all free capacity the same way, and a pass that missed
something (a crash, a lost race) is made good by the next. Accepting books the held slot
under the entry id and takes the caller off the waitlist in one transaction; declining frees
it, and the next pass offers it to the next caller. A caller is never offered a day again
once they let an offer on it lapse or declined it (the day remembers them).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.base import DomainEvent
from schemas.booking import IncidentGrade, Place, Slot, WaitlistJoined, WaitlistLeft
from services.booking.app.forms import BriefingForm, CallerForm, Short
from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit, write_holds
from services.booking.domain import commands, decider
from services.booking.domain.calendar import local_date, local_time
from services.booking.domain.capacity import free_slots
from services.booking.domain.commands import (
    BookDiaryCarVisit,
    BookStationSlot,
    CancelAppointment,
    Command,
    LapseOffer,
    OfferFreedSlot,
    OnDuty,
)
from services.booking.domain.errors import BookingRefused, Conflict, Refusal, SlotTaken, Unknown, WrongStatus
from services.booking.domain.rules import check_grade
from services.booking.domain.state import Appointment, Diary, DiaryDay
from services.booking.domain.waitlist import (
    JoinWaitlist,
    LeaveWaitlist,
    WaitingCaller,
    Waitlist,
    WaitlistEvent,
    decide_waitlist,
    evolve_waitlist,
    next_to_offer,
)
from services.booking.domain.waitlist import event_of as waitlist_event_of
from services.common.eventstore import OUTBOX_CHANNEL
from services.common.logging import get_logger
from services.common.london import spoken_moment
from services.common.unit_of_work import (
    Fold,
    Loaded,
    Metadata,
    TooMuchContention,
    any_event,
    load_one,
    run_unit,
)

log = get_logger(__name__)

MAX_RANGE_DAYS = 28
ACTOR = "booking:waitlist"
ATTEMPTS = 8
# Beside the migrator's (7061968) and the relay's (7061969): one offer process per database.
OFFERS_LOCK_KEY = 7_061_970
# Joining with a request id twice joins once: the entry id is derived from it.
REQUEST_NAMESPACE = uuid.UUID("0b6f5a52-8a0e-5c1f-b7d4-2f4e9c3a7d10")
# Only scheduled incidents get onto a waitlist (urgent and priority are refused on joining),
# and WaitlistJoined does not repeat the grade, so an accepted offer books as "scheduled".
WAITLISTED_GRADE: IncidentGrade = "scheduled"


class WaitlistSettings(BaseSettings):
    """How the offer process behaves; each field overridable as APPOINTMENTS_WAITLIST_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_WAITLIST_", extra="ignore")

    # How long a freed slot is held for a caller before it lapses (never beyond its start).
    hold_seconds: float = Field(default=7200.0, gt=0)
    # The longest the process sleeps between passes when nothing wakes it (new duty on the
    # roster appends no booking event, so only the clock notices it).
    poll_seconds: float = Field(default=5.0, gt=0)
    # After a wake-up, how long to let a burst of appends settle before looking.
    settle_seconds: float = Field(default=0.2, ge=0)


class WaitlistForm(BaseModel):
    """A caller for whom nothing suited: where and which days would, plus what a booking needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    place: Place
    place_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    from_day: date = Field(description="The first Europe/London date that would suit.")
    to_day: date = Field(description=f"The last date that would suit; at most {MAX_RANGE_DAYS} days in all.")
    incident_grade: IncidentGrade = Field(
        description="urgent and priority incidents are refused: they go to emergency response."
    )
    caller: CallerForm
    briefing: BriefingForm
    request_id: Short | None = Field(
        default=None, description="The caller's request id; the same id twice joins once."
    )
    offer_hold_seconds: int | None = Field(
        default=None,
        ge=1,
        le=7 * 24 * 3600,
        description="How long an offer to this caller stands (default: the service's hold, 2 hours).",
    )


class NoOffer(Unknown):
    """Nothing to accept or decline under this id."""


class RequestUsed(Conflict):
    """A request id that already joined another waitlist."""


@dataclass(frozen=True)
class Entries:
    """A waitlist as the domain folds it, and the WaitlistJoined (sealed details) of each caller waiting."""

    waitlist: Waitlist
    joined: dict[str, WaitlistJoined] = field(default_factory=dict)


def entries_of(stream_id: str) -> Entries:
    """An empty waitlist from its stream id; ValueError when it is not a waitlist stream."""
    kind, place, place_id = stream_id.split(":")
    if kind != "waitlist" or place not in ("station", "diary-car"):
        raise ValueError(f"not a waitlist stream: {stream_id!r}")
    return Entries(Waitlist("station" if place == "station" else "diary-car", place_id))


def evolve_entries(state: Entries, event: DomainEvent) -> Entries:
    """The waitlist after one of its events, keeping the details of those still waiting."""
    joined = state.joined
    if isinstance(event, WaitlistJoined):
        joined = {**joined, event.appointment_id: event}
    elif isinstance(event, WaitlistLeft):
        joined = {k: v for k, v in joined.items() if k != event.appointment_id}
    return Entries(evolve_waitlist(state.waitlist, waitlist_event_of(event)), joined)


def check_range(from_day: date, to_day: date) -> None:
    """Refuse a range longer than a waitlist covers (the domain refuses reversed and past ones)."""
    if to_day >= from_day and (to_day - from_day).days + 1 > MAX_RANGE_DAYS:
        raise Refusal("to_day", f"a waitlist covers at most {MAX_RANGE_DAYS} days: ask for a shorter range")


def entry_id_for(request_id: str | None) -> str:
    """The appointment id a waitlist entry books under: fixed by the request id when there is one."""
    return str(uuid.uuid5(REQUEST_NAMESPACE, request_id)) if request_id else str(uuid.uuid4())


Chore = Literal["free", "holding", "lapse", "booked", "over"]


def chore_for(caller: WaitingCaller, held: Appointment | None, now: datetime) -> Chore:
    """What a waiting caller needs now, given where their appointment id stands on its day.

    ``holding``: an offer still stands (offer them nothing else); ``lapse``: it has run out;
    ``booked``: their id is booked, so they should not be waiting; ``over``: all their days
    have gone; ``free``: they may be offered a slot.
    """
    if held is not None and held.status == "offered":
        assert held.offer_expires_at is not None
        return "lapse" if now >= held.offer_expires_at else "holding"
    if held is not None and held.status not in ("cancelled", "lapsed"):
        return "booked"
    if caller.to_day < local_date(now):
        return "over"
    return "free"


def offer_expiry(now: datetime, starts_at: datetime, hold: timedelta) -> datetime:
    """When an offer made now lapses: after the hold, but never after the slot begins."""
    return min(now + hold, starts_at)


def days_wanted(waitlist: Waitlist, today: date) -> list[date]:
    """Every day from today on that some caller waiting would take, earliest first."""
    days: set[date] = set()
    for caller in waitlist.waiting:
        day = max(caller.from_day, today)
        while day <= caller.to_day:
            days.add(day)
            day += timedelta(days=1)
    return sorted(days)


def without(waitlist: Waitlist, appointment_ids: set[str]) -> Waitlist:
    """The waitlist with these callers set aside (holding an offer, or leaving)."""
    return replace(
        waitlist, waiting=tuple(w for w in waitlist.waiting if w.appointment_id not in appointment_ids)
    )


def next_offer(
    waitlist: Waitlist, day: DiaryDay, on_duty: OnDuty, now: datetime
) -> tuple[WaitingCaller, Slot] | None:
    """The day's earliest free slot and the first caller waiting whose days include it, if any."""
    caller = next_to_offer(waitlist, day, now)
    if caller is None:
        return None
    free = free_slots(day, now, on_duty)
    return (caller, free[0]) if free else None


def check_acceptable(found: Appointment | None, appointment_id: str, now: datetime) -> Appointment:
    """The held slot, when its offer can still be taken; refused with the reason otherwise."""
    if found is None:
        raise NoOffer("appointment_id", f"nothing has been offered under {appointment_id}")
    if found.status == "offered":
        assert found.offer_expires_at is not None
        if now < found.offer_expires_at:
            return found
        raise WrongStatus("appointment_id", f"the offer lapsed at {spoken_moment(found.offer_expires_at)}")
    raise _not_on_offer(found)


def _not_on_offer(found: Appointment) -> WrongStatus:
    reasons = {"lapsed": "the offer lapsed", "cancelled": "the offer was declined"}
    return WrongStatus("appointment_id", reasons.get(found.status, f"the appointment is {found.status}"))


def check_declinable(found: Appointment | None, appointment_id: str) -> None:
    """Refuse declining when no offer stands; one not yet lapsed can be, even past its time."""
    if found is None:
        raise NoOffer("appointment_id", f"nothing has been offered under {appointment_id}")
    if found.status not in ("offered", "cancelled"):  # cancelled: declined already, nothing more
        raise _not_on_offer(found)


def booking_for(
    diary: Diary, held: Appointment, joined: WaitlistJoined, on_duty: OnDuty, now: datetime
) -> BookStationSlot | BookDiaryCarVisit:
    """The booking that turns a held slot into the caller's appointment (the same appointment id)."""
    return commands.book(
        diary.place,
        diary.place_id,
        appointment_id=held.appointment_id,
        day=diary.day,
        start=local_time(held.starts_at),
        incident_grade=WAITLISTED_GRADE,
        caller=joined.caller,
        briefing=joined.briefing,
        on_duty=on_duty,
        now=now,
    )


async def located(
    handlers: BookingHandlers, unit: BookingUnit, appointment_id: str
) -> Loaded[DiaryDay] | None:
    """The diary day an appointment id is on now (offered, booked or done), loaded; None if none."""
    stream = await unit.views.locate(appointment_id)
    return None if stream is None else await load_one(unit, handlers.days, stream)


def entries_fold(stream: str) -> Fold[Entries, DomainEvent]:
    """How a waitlist stream folds, keeping the details of those still waiting."""
    return Fold(initial=lambda _: entries_of(stream), evolve=evolve_entries, narrow=any_event, tag="waitlist")


# Where a waiting caller's appointment id is now: its day, and the appointment there.
Placed = tuple[Diary | None, Appointment | None]
EntryState = Literal["waiting", "offered", "booked", "left"]


@dataclass(frozen=True)
class EntryStatus:
    """Where a waitlist entry stands, and its appointment on a day when it has one."""

    appointment_id: str
    waitlist: str
    state: EntryState
    appointment: Appointment | None
    day: DiaryDay | None


@dataclass(frozen=True)
class Taken:
    """An accepted offer: the day it is booked on and the appointment as booked there."""

    day: DiaryDay
    appointment: Appointment
    events: list[DomainEvent]


class Waitlists:
    """The waitlist use cases a call taker drives: join, see, accept, decline, leave."""

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def join(self, form: WaitlistForm, meta: Metadata) -> tuple[str, list[DomainEvent]]:
        """Put a caller on a waitlist; returns the entry (appointment) id and the events recorded."""
        # The cheap refusals first, so nobody's details are sealed for a request refused anyway.
        check_grade(form.incident_grade)
        check_range(form.from_day, form.to_day)
        try:
            self._h.initial(Diary(form.place, form.place_id, form.from_day))
        except Refusal as unknown:
            raise Refusal("place_id", unknown.reason) from None
        if form.place == "diary-car" and form.caller.address is None:
            raise Refusal("caller.address", "a home visit needs the caller's address")
        caller, briefing = await self._h.seal(form.caller, form.briefing)
        command = JoinWaitlist(
            appointment_id=entry_id_for(form.request_id),
            from_day=form.from_day,
            to_day=form.to_day,
            incident_grade=form.incident_grade,
            caller=caller,
            briefing=briefing,
            now=meta.now,
        )
        stream = Waitlist(form.place, form.place_id).stream_id
        elsewhere = RequestUsed("request_id", "this request id already put the caller on another waitlist")

        async def work(unit: BookingUnit) -> list[DomainEvent]:
            entry = await unit.views.entry_of(command.appointment_id)
            if entry is not None and entry.waitlist != stream:
                raise elsewhere
            loaded = await load_one(unit, entries_fold(stream), stream)
            # The domain's JoinWaitlist knows no hold; the caller's own one rides on the event.
            events: list[DomainEvent] = [
                e.model_copy(update={"offer_hold_seconds": form.offer_hold_seconds})
                if isinstance(e, WaitlistJoined)
                else e
                for e in decide_waitlist(command, loaded.state.waitlist)
            ]
            unit.append(loaded, events, meta)
            await unit.views.record_entries(events)
            return events

        try:
            events = await run_unit(self._h.store, work)
        except asyncpg.UniqueViolationError:
            # The same request id joining another waitlist at the same moment: one id, one waitlist.
            raise elsewhere from None
        return command.appointment_id, events

    async def status(self, appointment_id: str) -> EntryStatus:
        """Where an entry stands: waiting, offered a slot (until when), booked, or gone."""

        async def work(unit: BookingUnit) -> EntryStatus:
            entry = await unit.views.entry_of(appointment_id)
            if entry is None:
                raise NoOffer("appointment_id", f"no waitlist entry {appointment_id}")
            day = await located(self._h, unit, appointment_id)
            found = day.state.find(appointment_id) if day else None
            state: EntryState
            if entry.left:
                state = "booked" if entry.booked else "left"
            elif found is not None and found.status == "offered":
                state = "offered"
            else:
                state = "waiting"
            return EntryStatus(appointment_id, entry.waitlist, state, found, day.state if day else None)

        return await run_unit(self._h.store, work)

    async def accept(self, appointment_id: str, meta: Metadata) -> Taken:
        """Book the slot held for a caller and take them off the waitlist, in one unit of work."""
        try:
            return await run_unit(self._h.store, lambda unit: self._accept(unit, appointment_id, meta))
        except asyncpg.ExclusionViolationError:
            raise SlotTaken("the room was taken at the same moment", []) from None

    async def _accept(self, unit: BookingUnit, appointment_id: str, meta: Metadata) -> Taken:
        entries = await self._entries(unit, appointment_id)
        day = await located(self._h, unit, appointment_id)
        found = day.state.find(appointment_id) if day else None
        if day and found and found.status == "booked" and appointment_id in entries.state.waitlist.left:
            return Taken(day.state, found, [])  # accepted already: the same answer again
        held = check_acceptable(found, appointment_id, meta.now)
        joined = entries.state.joined.get(appointment_id)
        if day is None or joined is None:
            raise WrongStatus("appointment_id", f"{appointment_id} is no longer on the waitlist")
        diary = day.state.diary
        command = booking_for(diary, held, joined, await unit.views.on_duty(diary), meta.now)
        booked = decider.decide(command, day.state)
        left = decide_waitlist(
            LeaveWaitlist(appointment_id=appointment_id, booked=True, now=meta.now), entries.state.waitlist
        )
        after = unit.append(day, booked, meta)
        unit.append(entries, left, meta)
        await write_holds(unit, booked)
        await unit.views.record_entries(left)
        taken = after.state.find(appointment_id)
        assert taken is not None
        return Taken(after.state, taken, [*booked, *left])

    async def decline(self, appointment_id: str, leave: bool, meta: Metadata) -> list[DomainEvent]:
        """The caller does not want the slot held for them: free it (and leave the waitlist if asked)."""
        return await self._release(appointment_id, meta, offer_needed=True, leave=leave)

    async def leave(self, appointment_id: str, meta: Metadata) -> list[DomainEvent]:
        """The caller no longer waits: free any slot held for them and take them off the waitlist."""
        return await self._release(appointment_id, meta, offer_needed=False, leave=True)

    async def _release(
        self, appointment_id: str, meta: Metadata, *, offer_needed: bool, leave: bool
    ) -> list[DomainEvent]:
        async def work(unit: BookingUnit) -> list[DomainEvent]:
            entries = await self._entries(unit, appointment_id)
            day = await located(self._h, unit, appointment_id)
            found = day.state.find(appointment_id) if day else None
            freed: list[decider.DiaryDayEvent] = []
            if offer_needed:
                check_declinable(found, appointment_id)
            if day is not None and found is not None and found.status == "offered":
                freed = decider.decide(
                    # A declined hold is cancelled by the public: the time did not suit them.
                    CancelAppointment(
                        appointment_id=appointment_id, initiated_by="public", reason="caller-unavailable",
                        now=meta.now,
                    ),
                    day.state,
                )  # fmt: skip
                unit.append(day, freed, meta)
                await write_holds(unit, freed)
            left: list[WaitlistEvent] = []
            if leave:
                left = decide_waitlist(
                    LeaveWaitlist(appointment_id=appointment_id, booked=False, now=meta.now),
                    entries.state.waitlist,
                )
                unit.append(entries, left, meta)
                await unit.views.record_entries(left)
            return [*freed, *left]

        return await run_unit(self._h.store, work)

    async def _entries(self, unit: BookingUnit, appointment_id: str) -> Loaded[Entries]:
        entry = await unit.views.entry_of(appointment_id)
        if entry is None:
            raise NoOffer("appointment_id", f"no waitlist entry {appointment_id}")
        return await load_one(unit, entries_fold(entry.waitlist), entry.waitlist)


class WaitlistOffers:
    """The process that lapses old offers and offers free slots to the callers waiting."""

    def __init__(
        self, handlers: BookingHandlers, pool: asyncpg.Pool, settings: WaitlistSettings | None = None
    ) -> None:
        self._h = handlers
        self._pool = pool
        self._settings = settings or WaitlistSettings()
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Serve the waitlists until cancelled; only the process holding the lock does so."""
        while True:
            try:
                await self._serve_while_locked()
            except asyncio.CancelledError:
                raise
            except Exception:
                # PostgreSQL blipped, or a bug in one pass: nothing is half done (each step is one
                # unit of work), so look again shortly.
                log.exception("waitlist offers failed; retrying")
                await asyncio.sleep(1.0)

    async def _serve_while_locked(self) -> None:
        async with self._pool.acquire() as conn:
            while not await conn.fetchval("select pg_try_advisory_lock($1)", OFFERS_LOCK_KEY):
                await self._sleep(None)  # another booking process serves them; wait our turn
            # Every append anywhere in booking notifies the relay; it wakes us too.
            await conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
            try:
                while True:
                    soonest = await self.offer_pass(datetime.now(UTC))
                    await self._sleep(soonest)
            finally:
                with contextlib.suppress(Exception):
                    await conn.remove_listener(OUTBOX_CHANNEL, self._on_notify)
                    await conn.execute("select pg_advisory_unlock($1)", OFFERS_LOCK_KEY)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _sleep(self, soonest: datetime | None) -> None:
        timeout = self._settings.poll_seconds
        if soonest is not None:
            # Just past the next expiry, so that offer lapses (and the slot moves on) on time.
            timeout = min(timeout, max((soonest - datetime.now(UTC)).total_seconds(), 0.0) + 0.05)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        if self._wake.is_set():
            await asyncio.sleep(self._settings.settle_seconds)
            self._wake.clear()

    async def offer_pass(self, now: datetime) -> datetime | None:
        """One look at every waitlist with someone waiting; returns the soonest offer expiry."""

        async def waiting(unit: BookingUnit) -> list[str]:
            return await unit.views.waitlists_waiting()

        meta = Metadata(correlation_id=str(uuid.uuid4()), actor=ACTOR, now=now)
        soonest: datetime | None = None
        for stream in await run_unit(self._h.store, waiting):
            try:
                expiry = await self._serve(stream, meta)
            except (BookingRefused, TooMuchContention) as exc:
                # One waitlist's trouble (a place no longer in the reference data, a busy day)
                # must not keep the others waiting.
                log.warning("waitlist not served", waitlist=stream, reason=str(exc))
                continue
            soonest = _earliest(soonest, expiry)
        return soonest

    async def _serve(self, stream: str, meta: Metadata) -> datetime | None:
        now = meta.now

        async def look(unit: BookingUnit) -> tuple[Entries, dict[str, Placed]]:
            entries = (await load_one(unit, entries_fold(stream), stream)).state
            placed: dict[str, Placed] = {}
            for caller in entries.waitlist.waiting:
                day = await located(self._h, unit, caller.appointment_id)
                found = day.state.find(caller.appointment_id) if day else None
                placed[caller.appointment_id] = (day.state.diary if day else None, found)
            return entries, placed

        entries, placed = await run_unit(self._h.store, look)
        soonest: datetime | None = None
        set_aside: set[str] = set()
        for caller in entries.waitlist.waiting:
            where, found = placed[caller.appointment_id]
            match chore_for(caller, found, now):
                case "lapse":
                    assert where is not None
                    await self._on_day(where, LapseOffer(appointment_id=caller.appointment_id, now=now), meta)
                case "holding":
                    assert found is not None
                    set_aside.add(caller.appointment_id)
                    soonest = _earliest(soonest, found.offer_expires_at)
                case "booked" | "over" as chore:
                    set_aside.add(caller.appointment_id)
                    await self._leave(stream, caller.appointment_id, chore == "booked", meta)
                case "free":
                    pass
        waitlist = without(entries.waitlist, set_aside)
        holds = {k: self._hold(v) for k, v in entries.joined.items()}
        for wanted in days_wanted(waitlist, local_date(now)):
            diary = Diary(waitlist.place, waitlist.place_id, wanted)
            while waitlist.waiting:
                offer = functools.partial(
                    self._offer_next, diary=diary, waitlist=waitlist, holds=holds, meta=meta
                )
                chosen = await run_unit(self._h.store, offer)
                if chosen is None:
                    break
                caller_id, expires_at = chosen
                waitlist = without(waitlist, {caller_id})
                soonest = _earliest(soonest, expires_at)
        return soonest

    async def _offer_next(
        self,
        unit: BookingUnit,
        *,
        diary: Diary,
        waitlist: Waitlist,
        holds: dict[str, timedelta],
        meta: Metadata,
    ) -> tuple[str, datetime] | None:
        day = await load_one(unit, self._h.days, diary.stream_id)
        on_duty = await unit.views.on_duty(diary)
        chosen = next_offer(waitlist, day.state, on_duty, meta.now)
        if chosen is None:
            return None
        caller, slot = chosen
        hold = holds.get(caller.appointment_id, self._hold(None))
        expires_at = offer_expiry(meta.now, slot.starts_at, hold)
        offer = OfferFreedSlot(
            appointment_id=caller.appointment_id, start=local_time(slot.starts_at), expires_at=expires_at,
            on_duty=on_duty, now=meta.now,
        )  # fmt: skip
        events = decider.decide(offer, day.state)
        unit.append(day, events, meta)
        await write_holds(unit, events)
        return caller.appointment_id, expires_at

    def _hold(self, joined: WaitlistJoined | None) -> timedelta:
        if joined is not None and joined.offer_hold_seconds is not None:
            return timedelta(seconds=joined.offer_hold_seconds)
        return timedelta(seconds=self._settings.hold_seconds)

    async def _on_day(self, diary: Diary, command: Command, meta: Metadata) -> None:
        async def work(unit: BookingUnit) -> None:
            day = await load_one(unit, self._h.days, diary.stream_id)
            events = decider.decide(command, day.state)
            unit.append(day, events, meta)
            await write_holds(unit, events)

        await run_unit(self._h.store, work)

    async def _leave(self, stream: str, appointment_id: str, booked: bool, meta: Metadata) -> None:
        command = LeaveWaitlist(appointment_id=appointment_id, booked=booked, now=meta.now)

        async def work(unit: BookingUnit) -> None:
            loaded = await load_one(unit, entries_fold(stream), stream)
            events = decide_waitlist(command, loaded.state.waitlist)
            unit.append(loaded, events, meta)
            await unit.views.record_entries(events)

        await run_unit(self._h.store, work)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
