"""Callers whose days are over leave the waitlist: a cheap sweep of the entries by their last day."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit
from services.booking.app.waitlist.reactor import ACTOR
from services.booking.app.waitlist.streams import ENTRIES
from services.booking.domain.calendar import local_date
from services.booking.domain.offers import days_over
from services.booking.domain.waitlist import LeaveWaitlist, decide
from services.common.unit_of_work import Metadata, load_one, run_unit


async def take_off_callers_over(handlers: BookingHandlers, now: datetime) -> int:
    """Every caller whose days are all over leaves (not booked); returns how many left.

    The entries index names them by their last day; the waitlist as folded decides (one unit
    of work per waitlist), so an index row a step behind its stream changes nothing.
    """
    today = local_date(now)

    async def over(unit: BookingUnit) -> list[tuple[str, str]]:
        return await unit.views.entries_over(today)

    by_waitlist: dict[str, set[str]] = defaultdict(set)
    for appointment_id, waitlist_stream in await run_unit(handlers.store, over):
        by_waitlist[waitlist_stream].add(appointment_id)
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor=ACTOR, now=now)
    left = 0
    for stream, ids in by_waitlist.items():

        async def work(unit: BookingUnit, stream: str = stream, ids: set[str] = ids) -> int:
            entries = await load_one(unit, ENTRIES, stream)
            waitlist = entries.state.waitlist
            gone = [c for c in waitlist.waiting if c.appointment_id in ids and days_over(c, today)]
            leave = [LeaveWaitlist(appointment_id=c.appointment_id, booked=False, now=now) for c in gone]
            events = [e for command in leave for e in decide(command, waitlist)]
            unit.append(entries, events, meta)
            await unit.views.record_waitlist(events)
            return len(events)

        left += await run_unit(handlers.store, work)
    return left
