"""Offering what changed to the callers waiting: one freed day, one caller's own days, or new duty.

Each runs inside a unit of work it is handed (the reactor's, or the roster consumer's), reads
only what that one change touches (first asking the entries index whether anyone waits for
those days at all, so a change nobody waits for loads nothing), and leaves every decision to
``domain.offers``. The offers' deadlines are written in the same unit as the offers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from prometheus_client import Counter

from schemas.base import DomainEvent
from schemas.booking import Place
from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit
from services.booking.app.waitlist.streams import ENTRIES, Entries
from services.booking.domain.calendar import local_date
from services.booking.domain.offers import days_of, days_wanted, offer_days
from services.booking.domain.state import Diary
from services.booking.domain.waitlist import Waitlist
from services.common.eventstore import StreamConflict
from services.common.unit_of_work import Loaded, Metadata, load_one

WAITLISTS_LOADED = Counter(
    "waitlist_loads_total", "Waitlists the reactor loaded to offer what changed", ["waitlist"]
)
DAYS_LOOKED = Counter("waitlist_days_looked_total", "Diary days the reactor loaded to offer freed capacity")
OFFERS_MADE = Counter("waitlist_offers_total", "Freed slots held for a caller waiting")


class Offering:
    """Offers freed capacity to the callers waiting, one change at a time."""

    def __init__(self, handlers: BookingHandlers, hold: timedelta) -> None:
        self._h = handlers
        self._hold = hold

    async def freed(self, unit: BookingUnit, diary: Diary, meta: Metadata) -> list[DomainEvent]:
        """A day's capacity freed: offer it to the callers waiting for that day, if any."""
        stream = Waitlist(diary.place, diary.place_id).stream_id
        if diary.day < local_date(meta.now) or not await unit.views.waiting_on(stream, diary.day, diary.day):
            return []
        return await self._offer(unit, await self._load(unit, stream), [diary.day], meta)

    async def caller_free(self, unit: BookingUnit, appointment_id: str, meta: Metadata) -> list[DomainEvent]:
        """A caller joined, or their offer ended: offer their own days (first come still first)."""
        entry = await unit.views.entry_of(appointment_id)
        if entry is None or entry.left:
            return []
        entries = await self._load(unit, entry.waitlist_stream)
        caller = entries.state.waitlist.caller(appointment_id)
        if caller is None:
            return []
        return await self._offer(unit, entries, days_of(caller, local_date(meta.now)), meta)

    async def new_capacity(
        self, unit: BookingUnit, place: Place, place_id: str, days: Sequence[date], meta: Metadata
    ) -> list[DomainEvent]:
        """New duty at a place on these days: offer the ones someone waits for."""
        today = local_date(meta.now)
        ahead = [d for d in days if d >= today]
        stream = Waitlist(place, place_id).stream_id
        if not ahead or not await unit.views.waiting_on(stream, ahead[0], ahead[-1]):
            return []
        entries = await self._load(unit, stream)
        wanted = set(days_wanted(entries.state.waitlist, today))
        return await self._offer(unit, entries, [d for d in ahead if d in wanted], meta)

    async def _load(self, unit: BookingUnit, stream: str) -> Loaded[Entries]:
        WAITLISTS_LOADED.labels(stream).inc()
        return await load_one(unit, ENTRIES, stream)

    async def _offer(
        self, unit: BookingUnit, entries: Loaded[Entries], days: Sequence[date], meta: Metadata
    ) -> list[DomainEvent]:
        waitlist = entries.state.waitlist
        if not days or not waitlist.waiting:
            return []
        diaries = [Diary(waitlist.place, waitlist.place_id, d) for d in days]
        loaded = await unit.load(self._h.days, [d.stream_id for d in diaries])  # every day in one read
        DAYS_LOOKED.inc(len(loaded))
        rosters = await unit.views.on_duty_days(waitlist.place, waitlist.place_id, days[0], days[-1])
        holding = await unit.views.offers_held([w.appointment_id for w in waitlist.waiting])
        made = offer_days(
            [(day.state, rosters[d]) for day, d in zip(loaded, days, strict=True)],
            waitlist, meta.now, holding, self._hold,
        )  # fmt: skip
        events: list[DomainEvent] = []
        for caller in {e.appointment_id for offered in made for e in offered}:
            entry = await unit.views.entry_of(caller)
            if entry is None or entry.left:
                # They accepted or left since the waitlist was read (read before the offers
                # held, so an offer ended by that answer looked free): decide again.
                raise StreamConflict(entries.stream_id, entries.version)
        for day, offered in zip(loaded, made, strict=True):
            unit.append(day, offered, meta)
            events.extend(offered)
        if events:
            await unit.views.record_placement(events)
            await unit.views.record_waitlist(events)
            OFFERS_MADE.inc(len(events))
        return events
