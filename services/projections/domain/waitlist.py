"""The waitlist as the read side tells it: who waits for each station and diary car, in order, and
the offers out. Pure: events -> one line per waitlist entry -> the waiting order; no I/O, no clock.

An entry's events all carry its id (``appointment_id``, booking's key), so they come on one
partition in booking's order, whichever stream wrote them: ``WaitlistJoined`` and
``WaitlistLeft`` on the place's waitlist stream, ``AppointmentOffered`` and what became of the
offer on the offered day's (``OfferLapsed``; ``AppointmentCancelled``, the caller declining;
``SlotBooked`` or ``DiaryCarVisitBooked``, the caller accepting).

A line keeps nothing of the caller: no name, no phone, no address and none of the briefing's
sealed words; the case reference and THRIVE risk are kept in clear, as the diary's lines keep
them. The order is booking's (``services.booking.domain.offers``: first come, first offered),
by when each joined. ``WaitlistJoined`` does not repeat the incident's grade: only scheduled
incidents join (booking refuses urgent and priority), so each line's grade is "scheduled".
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from schemas import booking as ev
from schemas.base import DomainEvent

State = Literal["waiting", "offered", "booked", "left"]
OPEN: tuple[State, ...] = ("waiting", "offered")
# WaitlistJoined carries no grade: booking lets only scheduled incidents wait (offers.WAITLISTED_GRADE).
GRADE = "scheduled"


@dataclass(frozen=True)
class Entry:
    """One caller's place on a waitlist, and the offer they hold, if any: ids, days and times only."""

    appointment_id: str
    place: str  # "station" | "diary-car"
    place_id: str
    from_day: date
    to_day: date
    joined_at: datetime
    case_reference: str
    thrive_risk: str
    state: str  # State
    offer_starts_at: datetime | None
    offer_ends_at: datetime | None
    offer_room_id: str | None
    offer_officer_id: str | None
    offered_at: datetime | None
    offer_expires_at: datetime | None
    offers: int  # how many slots were held for them
    lapsed: int  # offers they let lapse
    declined: int  # offers they declined
    left_at: datetime | None  # when they left: booked, or no longer waiting
    updated_at: datetime


def _no_offer(entry: Entry) -> Entry:
    """The entry holding no offer (one lapsed, declined, or given up with the waitlist)."""
    return replace(
        entry, offer_starts_at=None, offer_ends_at=None, offer_room_id=None, offer_officer_id=None,
        offered_at=None, offer_expires_at=None,
    )  # fmt: skip


def _joined(event: ev.WaitlistJoined) -> Entry:
    return Entry(
        appointment_id=event.appointment_id, place=event.place, place_id=event.place_id,
        from_day=event.from_day, to_day=event.to_day, joined_at=event.joined_at,
        case_reference=event.briefing.case_reference, thrive_risk=event.briefing.thrive_risk,
        state="waiting", offer_starts_at=None, offer_ends_at=None, offer_room_id=None,
        offer_officer_id=None, offered_at=None, offer_expires_at=None, offers=0, lapsed=0, declined=0,
        left_at=None, updated_at=event.joined_at,
    )  # fmt: skip


def apply(entry: Entry | None, event: DomainEvent) -> Entry | None:
    """The entry after ``event``; an event of an id nobody waits under, or one that changes
    nothing here, leaves it as it was (a redelivered join keeps the first)."""
    match event:
        case ev.WaitlistJoined() if entry is None:
            return _joined(event)
        case _ if entry is None or entry.state in ("booked", "left"):
            return entry
        case ev.AppointmentOffered() if entry.state == "waiting":  # booking offers one at a time
            slot = event.slot
            return replace(
                entry, state="offered", offer_starts_at=slot.starts_at, offer_ends_at=slot.ends_at,
                offer_room_id=slot.room_id, offer_officer_id=event.officer_id, offered_at=event.offered_at,
                offer_expires_at=event.expires_at, offers=entry.offers + 1, updated_at=event.offered_at,
            )  # fmt: skip
        case ev.OfferLapsed() if entry.state == "offered":
            return replace(
                _no_offer(entry), state="waiting", lapsed=entry.lapsed + 1, updated_at=event.lapsed_at
            )
        case ev.AppointmentCancelled() if entry.state == "offered":
            # Declining an offer cancels the held slot; the caller waits on unless they also left.
            declined = entry.declined + 1
            return replace(
                _no_offer(entry), state="waiting", declined=declined, updated_at=event.cancelled_at
            )
        case ev.SlotBooked() | ev.DiaryCarVisitBooked() if entry.state == "offered":
            return replace(entry, state="booked", left_at=event.booked_at, updated_at=event.booked_at)
        case ev.WaitlistLeft():
            if event.booked:
                return replace(entry, state="booked", left_at=event.left_at, updated_at=event.left_at)
            return replace(_no_offer(entry), state="left", left_at=event.left_at, updated_at=event.left_at)
        case _:
            return entry


@dataclass(frozen=True)
class Fact:
    """One booking event of one waitlist entry (or of an appointment, which may be one)."""

    appointment_id: str
    event_id: UUID
    event: DomainEvent


def fold(entries: MutableMapping[str, Entry], facts: Iterable[Fact]) -> dict[str, tuple[Entry, UUID]]:
    """Fold facts, in order, into ``entries`` (in place); the entries changed, with their last event."""
    changed: dict[str, tuple[Entry, UUID]] = {}
    for fact in facts:
        before = entries.get(fact.appointment_id)
        after = apply(before, fact.event)
        if after is not None and after != before:
            entries[fact.appointment_id] = after
            changed[fact.appointment_id] = (after, fact.event_id)
    return changed


def waiting(entries: Iterable[Entry], first: date | None = None, last: date | None = None) -> list[Entry]:
    """The entries still open (waiting or holding an offer), first come first, as booking offers to
    them; with a range, those whose days meet it (``first`` to ``last``, either open-ended)."""
    found = [
        e
        for e in entries
        if e.state in OPEN and (first is None or e.to_day >= first) and (last is None or e.from_day <= last)
    ]
    return sorted(found, key=lambda e: (e.joined_at, e.appointment_id))
