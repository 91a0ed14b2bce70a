"""Booking's views on PostgreSQL: its tables beside the event store, read and written in a unit.

One object per unit of work, on the unit's connection: who is on duty (booking's own
reading of roster.events), where each appointment lives, the room and officer
backstops, the waitlist entries. The in-memory twin is ``memory_views.MemoryBookingViews``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

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
    CAPACITY_DUTIES,
    DutySpan,
    Withdrawn,
    day_bounds,
    on_duty_by_day,
    places_touched,
)
from services.booking.app.ports import BookingFacts, Entry, OnDutyToday, RequestUse
from services.booking.domain.commands import OfficerOnDuty
from services.booking.domain.state import Diary
from services.common.eventstore import Companion, StreamConflict
from services.common.pg_store import UnitWrites

# Who gives capacity at a place over a span, each duty with the withdrawals of its officer in
# that span: one query, whatever the span's length.
_ON_DUTY = """
select d.officer_id, d.starts_at, d.ends_at,
       coalesce(array_agg(tstzrange(w.starts_at, w.ends_at)) filter (where w.officer_id is not null),
                '{{}}') as withdrawn
from duties d
left join withdrawals w on w.officer_id = d.officer_id and w.starts_at < $3 and w.ends_at > $2
where {place} and d.starts_at < $3 and d.ends_at > $2
group by d.duty_id
"""
_AT_STATION = _ON_DUTY.format(place="d.duty = 'appointments' and d.station_id = $1")
_ON_DIARY_CAR = _ON_DUTY.format(place="d.duty = 'diary-car' and d.district_id = $1")
# Before a booking: who is on duty, and what its request id was used for, in one round trip.
_BOOKING_FACTS = """
select r.used, d.officer_id, d.starts_at, d.ends_at, d.withdrawn
from (select (select coalesce(outcome ->> 'fingerprint', '') from decided_requests
              where request_id = $4) as used) as r
left join lateral ({on_duty}) as d on true
"""
_FACTS_AT_STATION = _BOOKING_FACTS.format(on_duty=_AT_STATION)
_FACTS_ON_DIARY_CAR = _BOOKING_FACTS.format(on_duty=_ON_DIARY_CAR)
# The rows a placement writes, each a companion of the unit's append (one statement in all).
_LOCATED = """
insert into appointment_locations (appointment_id, stream_id)
select * from unnest($1::text[], $2::text[])
on conflict (appointment_id) do update set stream_id = excluded.stream_id
"""
_ROOMS = """
insert into room_holds (appointment_id, station_id, room_id, during)
select a, s, r, tstzrange(f, t) from unnest($1::text[], $2::text[], $3::text[],
                                           $4::timestamptz[], $5::timestamptz[]) as h(a, s, r, f, t)
on conflict (appointment_id) do update
set station_id = excluded.station_id, room_id = excluded.room_id, during = excluded.during
"""
_OFFICERS = """
insert into officer_holds (appointment_id, officer_id, during)
select a, o, tstzrange(f, t) from unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
     as h(a, o, f, t)
on conflict (appointment_id) do update set officer_id = excluded.officer_id, during = excluded.during
"""
_REQUESTED = """
insert into decided_requests (request_id, appointment_id, outcome)
select r, a, jsonb_build_object('fingerprint', f)
from unnest($1::text[], $2::text[], $3::text[]) as q(r, a, f)
"""
# Another unit recorded the same request id first: decide again (and find it used).
_REQUEST_TAKEN = frozenset({"decided_requests_pkey"})
# Diary-day stream ids read "{place}:{place_id}:{YYYY-MM-DD}": the day compares as text.
_PLACED_DAYS = """
select distinct stream_id from appointment_locations
where split_part(stream_id, ':', 3) >= $3
  and ((split_part(stream_id, ':', 1) = 'station' and split_part(stream_id, ':', 2) = any($1::text[]))
    or (split_part(stream_id, ':', 1) = 'diary-car' and split_part(stream_id, ':', 2) = any($2::text[])))
order by stream_id
"""
# The lapse timer LISTENs here; a new deadline may be sooner than the one it sleeps towards.
DEADLINES_CHANNEL = "offer_deadlines"
_OFFERED = f"""
with added as (
    insert into offer_deadlines (appointment_id, diary_stream, expires_at)
    select * from unnest($1::text[], $2::text[], $3::timestamptz[])
    on conflict (appointment_id) do nothing
    returning 1
)
select (select count(*) from added) as added, pg_notify('{DEADLINES_CHANNEL}', '')
"""
_OFFER_ENDED = """
delete from offer_deadlines
where (appointment_id, diary_stream) in (select * from unnest($1::text[], $2::text[]))
"""
_JOINED = """
insert into waitlist_entries (appointment_id, waitlist_stream, joined_at, from_day, to_day)
select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::date[], $5::date[])
"""
_RELEASE = """
with rooms as (delete from room_holds where appointment_id = any($1::text[]))
delete from officer_holds where appointment_id = any($2::text[])
"""


class BookingViews:
    """Booking's tables on one unit's connection.

    Every write of its own opens the unit's transaction first (``UnitWrites.begin``); the
    rows a booking places go in the unit's append statement instead, so a booking commits
    in one statement with no transaction around it.
    """

    def __init__(self, conn: asyncpg.Connection, writes: UnitWrites) -> None:
        self.conn = conn
        self._writes = writes

    async def on_duty(self, diary: Diary) -> tuple[OfficerOnDuty, ...]:
        """The officers on appointment (or diary-car) duty for a diary day, net of withdrawals."""
        return (await self.on_duty_days(diary.place, diary.place_id, diary.day, diary.day))[diary.day]

    async def on_duty_days(
        self, place: Place, place_id: str, first: date, last: date
    ) -> dict[date, tuple[OfficerOnDuty, ...]]:
        """Who gives capacity on each day of a range, in one query whatever its length."""
        since, until = day_bounds(first)[0], day_bounds(last)[1]
        query = _AT_STATION if place == "station" else _ON_DIARY_CAR
        rows = await self.conn.fetch(query, place_id, since, until)
        return _on_duty_by_day(rows, first, last)

    async def booking_facts(self, diary: Diary, request_id: str | None) -> BookingFacts:
        """Who is on duty that day, and what the request id was used for (None: never)."""
        since, until = day_bounds(diary.day)
        query = _FACTS_AT_STATION if diary.place == "station" else _FACTS_ON_DIARY_CAR
        rows = await self.conn.fetch(query, diary.place_id, since, until, request_id)
        duties = [r for r in rows if r["officer_id"] is not None]
        return BookingFacts(_on_duty_by_day(duties, diary.day, diary.day)[diary.day], rows[0]["used"])

    async def places_of(self, officer_id: str, starts_at: datetime, ends_at: datetime) -> list[Diary]:
        """The diary days an officer's capacity duties touch within a span (for withdrawals)."""
        rows = await self.conn.fetch(
            "select duty, station_id, district_id, greatest(starts_at, $2) as s, least(ends_at, $3) as e"
            " from duties where officer_id = $1 and duty = any($4::text[]) and starts_at < $3"
            " and ends_at > $2",
            officer_id, starts_at, ends_at, list(CAPACITY_DUTIES),
        )  # fmt: skip
        return places_touched((r["duty"], r["station_id"], r["district_id"], r["s"], r["e"]) for r in rows)

    async def record_duty(
        self, duty_id: str, officer_id: str, duty: str, station_id: str | None, district_id: str,
        starts_at: datetime, ends_at: datetime,
    ) -> None:  # fmt: skip
        """Booking's copy of a capacity duty (a duty delivered twice is kept once)."""
        await self._writes.begin()
        await self.conn.execute(
            "insert into duties (duty_id, officer_id, duty, station_id, district_id, starts_at, ends_at)"
            " values ($1, $2, $3, $4, $5, $6, $7) on conflict (duty_id) do nothing",
            duty_id, officer_id, duty, station_id, district_id, starts_at, ends_at,
        )  # fmt: skip

    async def planned_end(self, duty_id: str) -> datetime | None:
        """When a capacity duty was planned to end, if booking knows it."""
        ends: datetime | None = await self.conn.fetchval(
            "select ends_at from duties where duty_id = $1", duty_id
        )
        return ends

    async def end_duty(self, duty_id: str, ends_at: datetime) -> None:
        """A duty ended early: it gives capacity only until then."""
        await self._writes.begin()
        await self.conn.execute("update duties set ends_at = $2 where duty_id = $1", duty_id, ends_at)

    async def record_withdrawal(
        self, withdrawal_id: str, officer_id: str, starts_at: datetime, ends_at: datetime, reason: str
    ) -> bool:
        """Booking's copy of a withdrawal; False when it was known already."""
        await self._writes.begin()
        inserted: bool | None = await self.conn.fetchval(
            "insert into withdrawals (withdrawal_id, officer_id, starts_at, ends_at, reason)"
            " values ($1, $2, $3, $4, $5) on conflict do nothing returning true",
            withdrawal_id, officer_id, starts_at, ends_at, reason,
        )  # fmt: skip
        return bool(inserted)

    async def announce(self, channel: str) -> None:
        """NOTIFY ``channel``: PostgreSQL delivers it to every listener when the unit commits."""
        await self._writes.begin()
        await self.conn.execute("select pg_notify($1, '')", channel)

    async def locate(self, appointment_id: str) -> str | None:
        """The diary-day stream an appointment lives in now, if it exists."""
        stream: str | None = await self.conn.fetchval(
            "select stream_id from appointment_locations where appointment_id = $1", appointment_id
        )
        return stream

    async def placed_days(
        self, stations: Sequence[str], districts: Sequence[str], first: date
    ) -> list[Diary]:
        """The diary days from ``first`` on where appointments at these stations or diary cars were placed.

        Read when a county load changes those places (rarely): a scan of the locations is fine.
        """
        rows = await self.conn.fetch(_PLACED_DAYS, list(stations), list(districts), first.isoformat())
        return [Diary.parse(r["stream_id"]) for r in rows]

    async def record_placement(
        self, events: Sequence[DomainEvent], request: RequestUse | None = None
    ) -> None:
        """Keep locations, room holds and officer holds in step with the events decided.

        The hold tables have exclusion constraints: a second hold on the same room, or the
        same officer, for an overlapping time fails the whole unit, whatever the decider said.
        Holds released are deleted at once, in the unit's transaction (a room freed here may
        be taken in the same unit); the rows placed, and the request id a booking was made
        under, are written in the unit's append statement. Another unit recording the request
        id first is a conflict (the unit decides again and finds it used).
        """
        placed = placements_of(events)
        rooms = [p.appointment_id for p in placed if p.room_action == "release"]
        officers = [p.appointment_id for p in placed if p.officer_action == "release"]
        if rooms or officers:
            await self._writes.begin()
            await self.conn.execute(_RELEASE, rooms, officers)
        located = [(p.appointment_id, p.stream_id) for p in placed if p.stream_id is not None]
        held_rooms = [(p.appointment_id, *p.room) for p in placed if p.room_action == "hold" and p.room]
        held_officers = [
            (p.appointment_id, *p.officer) for p in placed if p.officer_action == "hold" and p.officer
        ]
        for sql, rows, width in (
            (_LOCATED, located, 2), (_ROOMS, held_rooms, 5), (_OFFICERS, held_officers, 4)
        ):  # fmt: skip
            if rows:
                self._writes.with_append(Companion(sql, _transpose(rows, width)))
        if request is not None:
            asked = [(request.request_id, request.appointment_id, request.fingerprint)]
            self._writes.with_append(Companion(_REQUESTED, _transpose(asked, 3), _REQUEST_TAKEN))

    async def entry_of(self, appointment_id: str) -> Entry | None:
        """The waitlist an entry is on, and whether it left (booked or not)."""
        row = await self.conn.fetchrow(
            "select waitlist_stream, left_at is not null as left, booked from waitlist_entries"
            " where appointment_id = $1",
            appointment_id,
        )
        return None if row is None else Entry(row["waitlist_stream"], row["left"], row["booked"])

    async def record_waitlist(self, events: Sequence[DomainEvent]) -> None:
        """Keep waitlist_entries (with the days wanted) and offer_deadlines in step with the events.

        No "on conflict" for an entry: one entry id is never on two waitlists. A second offer
        standing for one caller (two reactions racing) is a conflict: the unit is decided again.
        """
        await self._writes.begin()
        joined = [e for e in events if isinstance(e, WaitlistJoined)]
        if joined:
            await self.conn.execute(
                _JOINED,
                *_transpose(
                    [(e.appointment_id, e.diary, e.joined_at, e.from_day, e.to_day) for e in joined], 5
                ),
            )
        for left in (e for e in events if isinstance(e, WaitlistLeft)):
            await self.conn.execute(
                "update waitlist_entries set left_at = $2, booked = $3 where appointment_id = $1",
                left.appointment_id, left.left_at, left.booked,
            )  # fmt: skip
        ended = [(e.appointment_id, e.diary) for e in events if isinstance(e, _ENDS_AN_OFFER)]
        if ended:
            await self.conn.execute(_OFFER_ENDED, *_transpose(ended, 2))
        offered = [
            (e.appointment_id, e.diary, e.expires_at) for e in events if isinstance(e, AppointmentOffered)
        ]
        if offered:
            row = await self.conn.fetchrow(_OFFERED, *_transpose(offered, 3))
            if row is None or row["added"] != len(offered):
                raise StreamConflict("offer_deadlines", 0)

    async def waiting_on(self, waitlist_stream: str, first: date, last: date) -> bool:
        """Whether anyone still waits on this waitlist for a day from ``first`` to ``last``."""
        found: bool = await self.conn.fetchval(
            "select exists (select 1 from waitlist_entries where waitlist_stream = $1 and left_at is null"
            " and coalesce(from_day, $3) <= $3 and coalesce(to_day, $2) >= $2)",
            waitlist_stream, first, last,
        )  # fmt: skip
        return found

    async def offers_held(self, appointment_ids: Sequence[str]) -> set[str]:
        """Which of these callers hold an offer now."""
        rows = await self.conn.fetch(
            "select appointment_id from offer_deadlines where appointment_id = any($1::text[])",
            list(appointment_ids),
        )
        return {r["appointment_id"] for r in rows}

    async def forget_offer(self, appointment_id: str, diary_stream: str) -> None:
        """An offer on that day ended elsewhere (a withdrawal, a cancellation): no deadline now."""
        await self._writes.begin()
        await self.conn.execute(_OFFER_ENDED, [appointment_id], [diary_stream])

    async def deadlines_due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(appointment id, diary-day stream) of offers whose time is up, earliest first."""
        rows = await self.conn.fetch(
            "select appointment_id, diary_stream from offer_deadlines where expires_at <= $1"
            " order by expires_at, appointment_id limit $2",
            now, limit,
        )  # fmt: skip
        return [(r["appointment_id"], r["diary_stream"]) for r in rows]

    async def next_deadline(self) -> datetime | None:
        """When the next offer standing lapses."""
        soonest: datetime | None = await self.conn.fetchval("select min(expires_at) from offer_deadlines")
        return soonest

    async def entries_over(self, today: date) -> list[tuple[str, str]]:
        """(appointment id, waitlist stream) of the callers still waiting whose last day is before today."""
        rows = await self.conn.fetch(
            "select appointment_id, waitlist_stream from waitlist_entries"
            " where left_at is null and to_day < $1 order by waitlist_stream, joined_at",
            today,
        )
        return [(r["appointment_id"], r["waitlist_stream"]) for r in rows]


# Each of these, decided on the day an offer stands, ends it (booked, declined or lapsed).
_ENDS_AN_OFFER = (SlotBooked, DiaryCarVisitBooked, AppointmentCancelled, OfferLapsed)


def _on_duty_by_day(rows: Sequence[asyncpg.Record], first: date, last: date) -> dict[date, OnDutyToday]:
    spans = [DutySpan(r["officer_id"], r["starts_at"], r["ends_at"]) for r in rows]
    withdrawn = {Withdrawn(r["officer_id"], w.lower, w.upper) for r in rows for w in r["withdrawn"]}
    return on_duty_by_day(spans, sorted(withdrawn), first, last)


def _transpose(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]
