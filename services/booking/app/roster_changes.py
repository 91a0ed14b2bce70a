"""Booking's reaction to roster.events: capacity comes and goes; booked times hold.

When an officer is withdrawn (or a duty ends early) each of their affected
appointments is reassigned to another officer free at that time, else moved to
the earliest free slot that day, else to the earliest free slot on a later day;
the caller is told whenever the time changes. All of it happens in the consumer's
transaction, with the offset it records: delivered twice, it changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from schemas.base import parse_event
from schemas.booking import AppointmentDisplaced, AppointmentRescheduled
from schemas.envelope import Envelope
from schemas.roster import DutyAssigned, DutyEnded, OfficerWithdrawn
from services.booking.adapters import roster_facts, store
from services.booking.app.handlers import BookingHandlers
from services.booking.domain import decider
from services.booking.domain.calendar import local_time
from services.booking.domain.capacity import free_slots
from services.booking.domain.commands import CoverWithdrawal, MoveAppointmentIn, MoveAppointmentOut
from services.booking.domain.state import Diary, DiaryDay
from services.common.commands import Loaded, Metadata, append_decided, load_state
from services.common.consumer import Position

# How far ahead a displaced appointment may move before it is left for a supervisor.
LOOK_AHEAD_DAYS = 14


class RosterChanges:
    """Applies roster events to booking's capacity tables and keeps booked times."""

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """The consumer's apply: record the roster fact, then cover what it takes away."""
        event = parse_event(env.event_type, env.schema_version, env.data)
        meta = Metadata(
            correlation_id=env.correlation_id,
            actor=env.actor or "roster",
            now=datetime.now(UTC),
            causation_id=str(env.event_id),
        )
        match event:
            case DutyAssigned() if event.duty in roster_facts.CAPACITY_DUTIES:
                await conn.execute(
                    "insert into duties (duty_id, officer_id, duty, station_id, district_id, starts_at,"
                    " ends_at)"
                    " values ($1, $2, $3, $4, $5, $6, $7) on conflict (duty_id) do nothing",
                    event.duty_id,
                    event.officer_id,
                    event.duty,
                    event.station_id,
                    event.district_id,
                    event.starts_at,
                    event.ends_at,
                )
            case DutyEnded():
                planned = await conn.fetchval("select ends_at from duties where duty_id = $1", event.duty_id)
                if planned is None or event.ends_at >= planned:
                    return
                days = await roster_facts.places_of(conn, event.officer_id, event.ends_at, planned)
                await conn.execute(
                    "update duties set ends_at = $2 where duty_id = $1", event.duty_id, event.ends_at
                )
                await self._cover(
                    conn,
                    days,
                    f"duty-ended:{event.duty_id}",
                    event.officer_id,
                    event.ends_at,
                    planned,
                    f"duty ended early: {event.reason}",
                    meta,
                )
            case OfficerWithdrawn():
                inserted = await conn.fetchval(
                    "insert into withdrawals (withdrawal_id, officer_id, starts_at, ends_at, reason)"
                    " values ($1, $2, $3, $4, $5) on conflict do nothing returning true",
                    event.withdrawal_id,
                    event.officer_id,
                    event.starts_at,
                    event.ends_at,
                    event.reason,
                )
                if not inserted:
                    return
                days = await roster_facts.places_of(conn, event.officer_id, event.starts_at, event.ends_at)
                await self._cover(
                    conn,
                    days,
                    event.withdrawal_id,
                    event.officer_id,
                    event.starts_at,
                    event.ends_at,
                    event.reason,
                    meta,
                )
            case _:
                return

    async def _load(self, conn: asyncpg.Connection, diary: Diary) -> Loaded[DiaryDay]:
        return await load_state(
            conn,
            diary.stream_id,
            self._h.source,
            self._h.initial(diary),
            lambda s, e: decider.evolve(s, decider.event_of(e)),
        )

    async def _cover(
        self,
        conn: asyncpg.Connection,
        days: list[Diary],
        withdrawal_id: str,
        officer_id: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        meta: Metadata,
    ) -> None:
        for diary in days:
            day = await self._load(conn, diary)
            command = CoverWithdrawal(
                withdrawal_id=withdrawal_id,
                officer_id=officer_id,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                on_duty=await roster_facts.on_duty(conn, diary),
                now=meta.now,
            )
            events = decider.decide(command, day.state)
            await append_decided(conn, day, events, self._h.source, meta)
            await store.record_placement(conn, events)
            displaced = [e for e in events if isinstance(e, AppointmentDisplaced)]
            if displaced:
                after = Loaded(day.stream_id, day.version + len(events), decider.fold(day.state, events))
                for event in displaced:
                    after = await self._move_to_a_later_day(conn, after, event, reason, meta)

    async def _move_to_a_later_day(
        self,
        conn: asyncpg.Connection,
        old: Loaded[DiaryDay],
        event: AppointmentDisplaced,
        reason: str,
        meta: Metadata,
    ) -> Loaded[DiaryDay]:
        found = old.state.find(event.appointment_id)
        assert found is not None
        place = old.state.diary
        for ahead in range(1, LOOK_AHEAD_DAYS + 1):
            target = Diary(place.place, place.place_id, place.day + timedelta(days=ahead))
            on_duty = await roster_facts.on_duty(conn, target)
            new = await self._load(conn, target)
            slots = free_slots(new.state, meta.now, on_duty)
            if not slots:
                continue
            moved_in = decider.decide(
                MoveAppointmentIn(
                    appointment_id=found.appointment_id,
                    from_diary=old.stream_id,
                    from_starts_at=found.starts_at,
                    from_ends_at=found.ends_at,
                    start=local_time(slots[0].starts_at),
                    initiated_by="police",
                    reason=f"officer withdrawn: {reason}",
                    on_duty=on_duty,
                    now=meta.now,
                ),
                new.state,
            )
            arrived = next(e for e in moved_in if isinstance(e, AppointmentRescheduled))
            moved_out = decider.decide(
                MoveAppointmentOut(
                    appointment_id=found.appointment_id,
                    to_diary=new.stream_id,
                    to_starts_at=arrived.starts_at,
                    initiated_by="police",
                    reason=f"officer withdrawn: {reason}",
                    now=meta.now,
                ),
                old.state,
            )
            await append_decided(conn, new, moved_in, self._h.source, meta)
            await append_decided(conn, old, moved_out, self._h.source, meta)
            await store.record_placement(conn, [*moved_out, *moved_in])
            return Loaded(old.stream_id, old.version + len(moved_out), decider.fold(old.state, moved_out))
        # Nobody is free for two weeks: it stays displaced, visible to supervisors in the diary.
        return old
