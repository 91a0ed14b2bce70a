"""The waitlist as a reactor: booking's own events that free capacity or add demand, each
offered on by looking at the one day (or the one caller's days) that changed.

- a cancellation, a lapsed offer, a move off a day (``AppointmentMovedOut``, or a
  reschedule within the day), a displacement: that day is offered on;
- a cancellation or lapse of a caller's offer (a decline is a cancellation): their
  deadline goes, and they are free to be offered another of their days;
- ``WaitlistJoined``: the new caller's days are offered;
- new duty comes from the roster consumer, inside its own unit (``offer_new_duty``).

Why this is safe across a crash and a redelivery: the reactor is an idempotent consumer
(group ``booking-waitlist``) of booking's own ``booking.events``. Every reaction is a unit of
work inside the consumer's transaction (``run_unit(..., within=conn)``, a savepoint), so the
offers, their holds and deadlines, and the record's offset and event id commit together or
not at all: a crash before the commit sends the record again and nothing was kept; after it,
the record is skipped. Reacting twice would change nothing anyway: the domain offers a day
only while a slot is free and a caller fits, and an offer made is on the day it looked at.
A lost race with the HTTP path or another reaction (the day moved, or the caller was
offered elsewhere: one deadline row a caller) rolls the savepoint back and decides again.
Fetches are applied a batch per transaction: most records (bookings) need nothing, and a
reaction that conflicts retries inside its own savepoint, not the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentCancelled,
    AppointmentDisplaced,
    AppointmentMovedOut,
    AppointmentRescheduled,
    OfferLapsed,
    Place,
    WaitlistJoined,
)
from schemas.envelope import Envelope
from schemas.roster import DutyAssigned
from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit
from services.booking.app.waitlist.forms import default_hold
from services.booking.app.waitlist.offering import Offering
from services.booking.domain.errors import BookingRefused
from services.booking.domain.offers import days_touched
from services.booking.domain.state import Diary
from services.common.consumer import Position, Transient
from services.common.logging import get_logger
from services.common.unit_of_work import Metadata, TooMuchContention, run_unit

log = get_logger(__name__)
ACTOR = "booking:waitlist"
Clock = Callable[[], datetime]
# The only events that free capacity or add demand; every other record is skipped unread.
REACTS_TO = frozenset(
    e.event_type
    for e in (
        AppointmentCancelled, OfferLapsed, AppointmentMovedOut, AppointmentRescheduled,
        AppointmentDisplaced, WaitlistJoined,
    )
)  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


class WaitlistReactor:
    """Offers what each of booking's events freed to the callers waiting."""

    def __init__(self, handlers: BookingHandlers, hold: timedelta | None = None, clock: Clock = _now) -> None:
        self._h = handlers
        self._offering = Offering(handlers, hold or default_hold())
        self._clock = clock

    async def apply_batch(self, conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Position]]) -> None:
        """The consumer's batch: each record in order, in the batch's one transaction."""
        for env, position in batch:
            await self.apply(conn, env, position)

    async def apply(self, conn: asyncpg.Connection | None, env: Envelope, _: Position) -> None:
        """The consumer's apply: react to one record inside the consumer's transaction."""
        if env.event_type not in REACTS_TO:
            return
        event = env.domain_event()
        meta = Metadata(
            correlation_id=env.correlation_id, actor=ACTOR, now=self._clock(), causation_id=str(env.event_id)
        )
        try:
            await run_unit(self._h.store, lambda unit: self.react(unit, event, meta), within=conn)
        except TooMuchContention as busy:
            raise Transient(str(busy)) from None  # it comes back; never put aside for being busy
        except BookingRefused as refused:
            # E.g. a place no longer in the reference data: nothing to offer there, ever.
            log.warning("waitlist reaction refused", event_type=env.event_type, reason=refused.reason)

    async def react(self, unit: BookingUnit, event: DomainEvent, meta: Metadata) -> list[DomainEvent]:
        """The offers one event leads to, decided and staged in the unit given."""
        offers = self._offering
        match event:
            case AppointmentCancelled() | OfferLapsed():
                entry = await unit.views.entry_of(event.appointment_id)
                if entry is not None:
                    # A caller's offer ended, here or elsewhere (a withdrawal lapses offers too).
                    await unit.views.forget_offer(event.appointment_id, event.diary)
                made = await offers.freed(unit, Diary.parse(event.diary), meta)
                if entry is None:
                    return made  # an ordinary appointment, not an offer to a caller waiting
                return [*made, *await offers.caller_free(unit, event.appointment_id, meta)]
            case AppointmentMovedOut() | AppointmentDisplaced():
                return await offers.freed(unit, Diary.parse(event.diary), meta)
            case AppointmentRescheduled() if event.from_diary == event.diary:
                return await offers.freed(unit, Diary.parse(event.diary), meta)
            case WaitlistJoined():
                return await offers.caller_free(unit, event.appointment_id, meta)
        return []


async def offer_new_duty(
    handlers: BookingHandlers, unit: BookingUnit, duty: DutyAssigned, meta: Metadata
) -> list[DomainEvent]:
    """New capacity duty is new capacity: offer the days it touches, inside the roster's unit."""
    place: Place = "station" if duty.duty == "appointments" and duty.station_id else "diary-car"
    place_id = duty.station_id if place == "station" and duty.station_id else duty.district_id
    days = days_touched(duty.starts_at, duty.ends_at)
    return await Offering(handlers, default_hold()).new_capacity(unit, place, place_id, days, meta)
