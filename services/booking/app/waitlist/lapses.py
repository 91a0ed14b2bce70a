"""The lapse timer: offers whose time is up lapse, and callers whose days are over leave.

One booking process at a time serves it (a session advisory lock). It sleeps until the next
deadline in ``offer_deadlines``, woken sooner by the NOTIFY each new offer sends, and at the
latest after the slow poll (a minute); each pass also takes off the callers whose last day
has gone (``over``: one indexed query when there are none). Each lapse is one unit of work
that records ``OfferLapsed`` and drops the deadline row together; the reactor then sees the
lapse on booking.events and offers the day on. A crash leaves the row in place, so the offer
lapses on the next pass, after a restart as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import asyncpg

from services.booking.adapters.views import DEADLINES_CHANNEL
from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit
from services.booking.app.waitlist.forms import WaitlistSettings, waitlist_settings
from services.booking.app.waitlist.over import take_off_callers_over
from services.booking.app.waitlist.reactor import ACTOR, Clock
from services.booking.domain import decider
from services.booking.domain.commands import LapseOffer
from services.booking.domain.errors import BookingRefused
from services.common.logging import get_logger
from services.common.unit_of_work import Metadata, TooMuchContention, load_one, run_unit

log = get_logger(__name__)
# Beside the migrator's (7061968) and the relay's (7061969): one lapse timer per database.
LAPSES_LOCK_KEY = 7_061_970
BATCH = 100


class OfferLapses:
    """Lapses offers on time and takes off callers whose days are over."""

    def __init__(
        self, handlers: BookingHandlers, settings: WaitlistSettings | None = None, clock: Clock | None = None
    ) -> None:
        self._h = handlers
        self._settings = settings or waitlist_settings()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._wake = asyncio.Event()

    async def run(self, pool: asyncpg.Pool) -> None:
        """Serve the deadlines until cancelled; only the process holding the lock does so."""
        while True:
            try:
                await self._serve_while_locked(pool)
            except asyncio.CancelledError:
                raise
            except Exception:
                # PostgreSQL blipped, or the county is not loaded yet: each lapse is its own
                # unit of work, so nothing is half done; look again shortly.
                log.exception("offer lapses failed; retrying")
                await asyncio.sleep(1.0)

    async def _serve_while_locked(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            while not await conn.fetchval("select pg_try_advisory_lock($1)", LAPSES_LOCK_KEY):
                await self._sleep_until(None)  # another process serves them; wait our turn
            await conn.add_listener(DEADLINES_CHANNEL, self._on_notify)
            try:
                while True:
                    self._wake.clear()
                    await self.sweep(self._clock())
                    await self._sleep_until(await self.lapse_due(self._clock()))
            finally:
                with contextlib.suppress(Exception):
                    await conn.remove_listener(DEADLINES_CHANNEL, self._on_notify)
                    await conn.execute("select pg_advisory_unlock($1)", LAPSES_LOCK_KEY)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _sleep_until(self, deadline: datetime | None) -> None:
        timeout = self._settings.poll_seconds
        if deadline is not None:
            timeout = min(timeout, max((deadline - self._clock()).total_seconds(), 0.0) + 0.01)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def lapse_due(self, now: datetime) -> datetime | None:
        """Lapse the offers whose time is up (a batch at most); returns when the next is due."""

        async def due(unit: BookingUnit) -> list[tuple[str, str]]:
            return await unit.views.deadlines_due(now, BATCH)

        async def soonest(unit: BookingUnit) -> datetime | None:
            return await unit.views.next_deadline()

        batch = await run_unit(self._h.store, due)
        meta = Metadata(correlation_id=str(uuid.uuid4()), actor=ACTOR, now=now)
        for appointment_id, diary_stream in batch:
            await self._lapse(appointment_id, diary_stream, meta)
        return await run_unit(self._h.store, soonest)

    async def _lapse(self, appointment_id: str, diary_stream: str, meta: Metadata) -> None:
        async def work(unit: BookingUnit) -> None:
            day = await load_one(unit, self._h.days, diary_stream)
            try:
                events = decider.decide(LapseOffer(appointment_id=appointment_id, now=meta.now), day.state)
            except BookingRefused as gone:  # not on that day after all: nothing stands to lapse
                log.warning("offer deadline without an offer", diary_stream=diary_stream, reason=gone.reason)
                events = []
            unit.append(day, events, meta)
            await unit.views.record_placement(events)
            await unit.views.record_waitlist(events)
            # Taken, declined or lapsed already: the row outlived its offer.
            await unit.views.forget_offer(appointment_id, diary_stream)

        try:
            await run_unit(self._h.store, work)
        except TooMuchContention:
            log.warning("offer not lapsed yet: its day is busy", diary_stream=diary_stream)

    async def sweep(self, now: datetime) -> int:
        """Take off every caller whose days are all over; returns how many left."""
        return await take_off_callers_over(self._h, now)
