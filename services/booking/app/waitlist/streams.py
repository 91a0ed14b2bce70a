"""How the waitlist's handlers load what they decide on: a waitlist stream, an entry's day."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.base import DomainEvent
from schemas.booking import WaitlistJoined, WaitlistLeft
from services.booking.app.handlers import BookingHandlers
from services.booking.app.ports import BookingUnit
from services.booking.domain.offers import NoOffer
from services.booking.domain.state import DiaryDay
from services.booking.domain.waitlist import Waitlist, event_of, evolve
from services.common.unit_of_work import Fold, Loaded, any_event, load_one


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
    return Entries(evolve(state.waitlist, event_of(event)), joined)


# Every waitlist stream folds the same way; the tag lets the store cache it between units.
ENTRIES: Fold[Entries, DomainEvent] = Fold(
    initial=entries_of, evolve=evolve_entries, narrow=any_event, tag="waitlist"
)


async def load_entries(unit: BookingUnit, appointment_id: str) -> Loaded[Entries]:
    """The waitlist an entry is on, loaded; NoOffer when there is no such entry."""
    entry = await unit.views.entry_of(appointment_id)
    if entry is None:
        raise NoOffer("appointment_id", f"no waitlist entry {appointment_id}")
    return await load_one(unit, ENTRIES, entry.waitlist_stream)


async def located(
    handlers: BookingHandlers, unit: BookingUnit, appointment_id: str
) -> Loaded[DiaryDay] | None:
    """The diary day an appointment id is on now (offered, booked or done), loaded; None if none."""
    stream = await unit.views.locate(appointment_id)
    return None if stream is None else await load_one(unit, handlers.days, stream)
