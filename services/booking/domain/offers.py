"""Offering freed capacity to the callers waiting, and answering an offer. Pure: no clock, no I/O.

A day's free slot goes to the first caller waiting (first come, first offered) whose days
include that day, who holds no other offer, and who has had nothing on that day before: a
caller who let an offer on a day lapse, or declined it, is never offered that day again (the
day remembers their appointment id). An offer stands for the caller's own hold, else the
service's, and never past the slot's start. A caller whose last day has gone leaves.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from schemas.booking import IncidentGrade, WaitlistJoined
from services.booking.domain import commands, decider
from services.booking.domain.calendar import local_date, local_time
from services.booking.domain.capacity import free_slots
from services.booking.domain.commands import BookDiaryCarVisit, BookStationSlot, OfferFreedSlot, OnDuty
from services.booking.domain.errors import Unknown, WrongStatus
from services.booking.domain.state import Appointment, DiaryDay, DiaryDayEvent
from services.booking.domain.waitlist import WaitingCaller, Waitlist
from services.common.london import spoken_moment

# Only scheduled incidents get onto a waitlist (urgent and priority are refused on joining),
# and WaitlistJoined does not repeat the grade, so an accepted offer books as "scheduled".
WAITLISTED_GRADE: IncidentGrade = "scheduled"


class NoOffer(Unknown):
    """Nothing to accept or decline under this id."""


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def days_of(caller: WaitingCaller, today: date) -> list[date]:
    """The days from today on that would suit a caller, earliest first."""
    return days_between(max(caller.from_day, today), caller.to_day)


def days_wanted(waitlist: Waitlist, today: date) -> list[date]:
    """Every day from today on that some caller waiting would take, earliest first."""
    return sorted({day for caller in waitlist.waiting for day in days_of(caller, today)})


def days_touched(starts_at: datetime, ends_at: datetime) -> list[date]:
    """The London days a span of time touches (a duty, say)."""
    return days_between(local_date(starts_at), local_date(ends_at - timedelta(microseconds=1)))


def days_over(caller: WaitingCaller, today: date) -> bool:
    """Whether every day that would suit a caller has gone (they leave the waitlist)."""
    return caller.to_day < today


def offer_expiry(now: datetime, starts_at: datetime, hold: timedelta) -> datetime:
    """When an offer made now lapses: after the hold, but never after the slot begins."""
    return min(now + hold, starts_at)


def fits(caller: WaitingCaller, day: DiaryDay, today: date, holding: Collection[str]) -> bool:
    """Whether a caller may be offered a slot on this day: in their days, free of other offers,
    and never offered anything on it before."""
    return (
        caller.from_day <= day.diary.day <= caller.to_day
        and day.diary.day >= today
        and caller.appointment_id not in holding
        and day.find(caller.appointment_id) is None
    )


def next_to_offer(
    waitlist: Waitlist, day: DiaryDay, now: datetime, holding: Collection[str] = ()
) -> WaitingCaller | None:
    """The first caller waiting who fits the day, if any."""
    if (day.diary.place, day.diary.place_id) != (waitlist.place, waitlist.place_id):
        return None
    today = local_date(now)
    return next((c for c in waitlist.waiting if fits(c, day, today, holding)), None)


def offer_day(
    day: DiaryDay,
    waitlist: Waitlist,
    on_duty: OnDuty,
    now: datetime,
    holding: Collection[str],
    hold: timedelta,
) -> list[DiaryDayEvent]:
    """Every offer a day can make now: its free slots, earliest first, each held for the first
    caller waiting who fits; ``hold`` is the service's, for callers who asked for none."""
    events: list[DiaryDayEvent] = []
    held = set(holding)
    while (caller := next_to_offer(waitlist, day, now, held)) is not None:
        free = free_slots(day, now, on_duty)
        if not free:
            break
        own = timedelta(seconds=caller.offer_hold_seconds) if caller.offer_hold_seconds else hold
        command = OfferFreedSlot(
            appointment_id=caller.appointment_id, start=local_time(free[0].starts_at),
            expires_at=offer_expiry(now, free[0].starts_at, own), on_duty=on_duty, now=now,
        )  # fmt: skip
        offered = decider.decide(command, day)
        day = decider.fold(day, offered)
        held.add(caller.appointment_id)
        events.extend(offered)
    return events


def offer_days(
    days: Sequence[tuple[DiaryDay, OnDuty]],
    waitlist: Waitlist,
    now: datetime,
    holding: Collection[str],
    hold: timedelta,
) -> list[list[DiaryDayEvent]]:
    """The offers of several days (each with its roster), in the order given; one offer a caller."""
    held = set(holding)
    offers: list[list[DiaryDayEvent]] = []
    for day, on_duty in days:
        events = offer_day(day, waitlist, on_duty, now, held, hold)
        held |= {e.appointment_id for e in events}
        offers.append(events)
    return offers


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


def check_declinable(found: Appointment | None, appointment_id: str) -> None:
    """Refuse declining when no offer stands; one not yet lapsed can be, even past its time."""
    if found is None:
        raise NoOffer("appointment_id", f"nothing has been offered under {appointment_id}")
    if found.status not in ("offered", "cancelled"):  # cancelled: declined already, nothing more
        raise _not_on_offer(found)


def _not_on_offer(found: Appointment) -> WrongStatus:
    reasons = {"lapsed": "the offer lapsed", "cancelled": "the offer was declined"}
    return WrongStatus("appointment_id", reasons.get(found.status, f"the appointment is {found.status}"))


def booking_for(
    day: DiaryDay, held: Appointment, joined: WaitlistJoined, on_duty: OnDuty, now: datetime
) -> BookStationSlot | BookDiaryCarVisit:
    """The booking that turns a held slot into the caller's appointment (the same appointment id)."""
    diary = day.diary
    return commands.book(
        diary.place, diary.place_id, appointment_id=held.appointment_id, day=diary.day,
        start=local_time(held.starts_at), incident_grade=WAITLISTED_GRADE, caller=joined.caller,
        briefing=joined.briefing, on_duty=on_duty, now=now,
    )  # fmt: skip
