"""After booking: reschedule (within a day or to another), cancel, attendance and no-shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

import asyncpg

from schemas.base import DomainEvent
from schemas.booking import AppointmentRescheduled, CancelReason, Initiator, Outcome
from services.booking.adapters import store
from services.booking.app.handlers import BookingHandlers
from services.booking.domain import decider
from services.booking.domain.commands import (
    CancelAppointment,
    Command,
    MoveAppointmentIn,
    MoveAppointmentOut,
    RecordAttendance,
    RecordNoShow,
    RescheduleAppointment,
)
from services.booking.domain.errors import UnknownAppointment
from services.booking.domain.state import Diary, DiaryDay
from services.common.commands import (
    Loaded,
    Metadata,
    TooMuchContention,
    append_decided,
    load_state,
)
from services.common.eventstore import StreamConflict

ATTEMPTS = 8


def _new_start(moved_in: list[decider.DiaryDayEvent]) -> datetime:
    arrived = next(e for e in moved_in if isinstance(e, AppointmentRescheduled))
    return arrived.starts_at


class Lifecycle:
    """Commands on an appointment that already exists, wherever its day is now."""

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def _load(self, conn: asyncpg.Connection, stream_id: str) -> Loaded[DiaryDay]:
        diary = Diary.parse(stream_id)
        return await load_state(
            conn,
            stream_id,
            self._h.source,
            self._h.initial(diary),
            lambda s, e: decider.evolve(s, decider.event_of(e)),
        )

    async def _where(self, conn: asyncpg.Connection, appointment_id: str) -> str:
        stream = await store.locate(conn, appointment_id)
        if stream is None:
            raise UnknownAppointment(appointment_id)
        return stream

    async def _on_one_day(
        self, appointment_id: str, meta: Metadata, command: Callable[[DiaryDay], Command]
    ) -> list[DomainEvent]:
        for _ in range(ATTEMPTS):
            try:
                async with self._h.pool.acquire() as conn, conn.transaction():
                    day = await self._load(conn, await self._where(conn, appointment_id))
                    events = decider.decide(command(day.state), day.state)
                    await append_decided(conn, day, events, self._h.source, meta)
                    await store.record_placement(conn, events)
                    return list(events)
            except StreamConflict:
                continue
        raise TooMuchContention(f"appointment {appointment_id} is too busy; try again")

    async def reschedule(
        self, appointment_id: str, day: date, start: time, by: Initiator, reason: str, meta: Metadata
    ) -> list[DomainEvent]:
        """Move an appointment to another slot: on its own day, or to another day in one transaction."""
        for _ in range(ATTEMPTS):
            try:
                async with self._h.pool.acquire() as conn, conn.transaction():
                    old = await self._load(conn, await self._where(conn, appointment_id))
                    target = Diary(old.state.diary.place, old.state.diary.place_id, day)
                    on_duty = await self._h.on_duty(conn, target)
                    if target == old.state.diary:
                        events = decider.decide(
                            RescheduleAppointment(
                                appointment_id=appointment_id,
                                start=start,
                                initiated_by=by,
                                reason=reason,
                                on_duty=on_duty,
                                now=meta.now,
                            ),
                            old.state,
                        )
                        await append_decided(conn, old, events, self._h.source, meta)
                        await store.record_placement(conn, events)
                        return list(events)
                    found = old.state.find(appointment_id)
                    if found is None:
                        raise UnknownAppointment(appointment_id)
                    new = await self._load(conn, target.stream_id)
                    moved_in = decider.decide(
                        MoveAppointmentIn(
                            appointment_id=appointment_id,
                            from_diary=old.stream_id,
                            from_starts_at=found.starts_at,
                            from_ends_at=found.ends_at,
                            start=start,
                            initiated_by=by,
                            reason=reason,
                            on_duty=on_duty,
                            now=meta.now,
                        ),
                        new.state,
                    )
                    if not moved_in:
                        return []
                    moved_out = decider.decide(
                        MoveAppointmentOut(
                            appointment_id=appointment_id,
                            to_diary=new.stream_id,
                            to_starts_at=_new_start(moved_in),
                            initiated_by=by,
                            reason=reason,
                            now=meta.now,
                        ),
                        old.state,
                    )
                    await append_decided(conn, new, moved_in, self._h.source, meta)
                    await append_decided(conn, old, moved_out, self._h.source, meta)
                    # The room is freed on the old day before it is taken on the new one.
                    await store.record_placement(conn, [*moved_out, *moved_in])
                    return [*moved_in, *moved_out]
            except StreamConflict:
                continue
        raise TooMuchContention(f"appointment {appointment_id} is too busy; try again")

    async def cancel(
        self, appointment_id: str, by: Initiator, reason: CancelReason, meta: Metadata
    ) -> list[DomainEvent]:
        """Cancel an appointment, saying who asked and why."""
        return await self._on_one_day(
            appointment_id,
            meta,
            lambda _: CancelAppointment(
                appointment_id=appointment_id, initiated_by=by, reason=reason, now=meta.now
            ),
        )

    async def attended(
        self, appointment_id: str, outcome: Outcome, officer_id: str | None, meta: Metadata
    ) -> list[DomainEvent]:
        """Record that the meeting took place, and its outcome."""
        return await self._on_one_day(
            appointment_id,
            meta,
            lambda _: RecordAttendance(
                appointment_id=appointment_id, officer_id=officer_id, outcome=outcome, now=meta.now
            ),
        )

    async def missed(
        self, appointment_id: str, by: Initiator, reason: str, meta: Metadata
    ) -> list[DomainEvent]:
        """Record a no-show: by the public, or by the police (no officer came)."""
        return await self._on_one_day(
            appointment_id,
            meta,
            lambda _: RecordNoShow(appointment_id=appointment_id, missed_by=by, reason=reason, now=meta.now),
        )
