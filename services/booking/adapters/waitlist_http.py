"""HTTP for the waitlist: join it, see where an entry stands, accept or decline an offer, leave."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from schemas.base import DomainEvent
from schemas.booking import PLACE_ID, Place
from services.booking.adapters.http import Booked, booked, handlers_of, meta_of, refused
from services.booking.adapters.personal import InvalidPersonalData
from services.booking.app.handlers import NotSeeded
from services.booking.app.waitlist import Answers, EntryState, Taken, WaitlistForm, Waitlists
from services.booking.domain.errors import BookingRefused
from services.booking.domain.state import Status
from services.common.commands import TooMuchContention
from services.common.http import Authorized, plausible_id, problem, unknown
from services.common.london import spoken_day, spoken_range, spoken_time

router = APIRouter(tags=["waitlist"])
T = TypeVar("T")


class Joined(BaseModel):
    """A caller on the waitlist: the entry id is the appointment id an accepted offer books under."""

    appointment_id: str
    waitlist: str = Field(description="The waitlist's event-store stream: waitlist:{place}:{place_id}.")
    place: Place
    place_id: str = Field(description=PLACE_ID)
    from_day: date
    to_day: date
    events: list[str]


class Entry(BaseModel):
    """Where a waitlist entry stands; the slot and until when it is held, when offered one."""

    appointment_id: str
    waitlist: str = Field(description="The waitlist's event-store stream: waitlist:{place}:{place_id}.")
    status: EntryState
    appointment_status: Status | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    offer_expires_at: datetime | None = None
    day: str | None = None
    when: str | None = None
    expires: str | None = None


class Accepted(Booked):
    """The offer taken: the booking as confirmed to the call taker, and what was recorded."""

    events: list[str]


class DeclineBody(BaseModel):
    """Whether the caller also stops waiting (otherwise they may be offered another day)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    leave_waitlist: bool = False


class Changed(BaseModel):
    """What the command recorded (no events: it was already so)."""

    appointment_id: str
    events: list[str]


RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"description": "No such waitlist entry, or nothing offered under it."},
    409: {"description": "The offer lapsed, was declined, or was taken already."},
    422: {"description": "Refused: the body names the field and the reason."},
    503: {"description": "Too many changes raced for the same waitlist, or booking is starting: try again."},
}


async def _answer(work: Callable[[], Awaitable[T]], ok: Callable[[T], object]) -> object:
    try:
        result = await work()
    except (BookingRefused, InvalidPersonalData) as exc:
        return refused(exc)
    except (TooMuchContention, NotSeeded) as exc:
        return problem(503, str(exc), retry_after_seconds=1)
    return ok(result)


def _waitlists(request: Request) -> Waitlists:
    return Waitlists(handlers_of(request))


def _answers(request: Request, appointment_id: str) -> Answers:
    _check_entry(appointment_id)
    return Answers(handlers_of(request))


def _check_entry(appointment_id: str) -> None:
    if not plausible_id(appointment_id):
        raise unknown("appointment_id", "there is no waitlist entry with this id")


def _names(events: list[DomainEvent]) -> list[str]:
    return [e.event_type for e in events]


@router.post("/waitlist", status_code=201, responses={201: {"model": Joined}, **RESPONSES})
async def join_waitlist(request: Request, form: WaitlistForm, caller: Authorized) -> object:
    """Put a caller for whom nothing suited on the waitlist of a station or diary car for some days."""
    waitlists = _waitlists(request)

    def ok(result: tuple[str, list[DomainEvent]]) -> JSONResponse:
        appointment_id, events = result
        body = Joined(
            appointment_id=appointment_id,
            waitlist=f"waitlist:{form.place}:{form.place_id}",
            place=form.place,
            place_id=form.place_id,
            from_day=form.from_day,
            to_day=form.to_day,
            events=_names(events),
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=201)

    return await _answer(lambda: waitlists.join(form, meta_of(caller)), ok)


@router.get("/waitlist/{appointment_id}", response_model=Entry, responses=RESPONSES)
async def waitlist_entry(request: Request, appointment_id: str, _: Authorized) -> object:
    """Where a waitlist entry stands: waiting, offered a slot (until when), booked, or left."""
    _check_entry(appointment_id)
    waitlists = _waitlists(request)

    async def work() -> Entry:
        status = await waitlists.status(appointment_id)
        entry = Entry(appointment_id=appointment_id, waitlist=status.waitlist_stream, status=status.state)
        a = status.appointment
        if a is None:
            return entry
        return entry.model_copy(
            update={
                "appointment_status": a.status,
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
                "offer_expires_at": a.offer_expires_at if a.status == "offered" else None,
                "day": spoken_day(status.day.diary.day) if status.day else None,
                "when": spoken_range(a.starts_at, a.ends_at),
                "expires": (
                    spoken_time(a.offer_expires_at) if a.status == "offered" and a.offer_expires_at else None
                ),
            }
        )

    return await _answer(work, lambda entry: entry)


@router.post("/waitlist/{appointment_id}/leave", response_model=Changed, responses=RESPONSES)
async def leave_waitlist(request: Request, appointment_id: str, caller: Authorized) -> object:
    """Take a caller off the waitlist; a slot held for them is freed for the next caller."""
    answers = _answers(request, appointment_id)
    return await _answer(
        lambda: answers.leave(appointment_id, meta_of(caller)),
        lambda events: Changed(appointment_id=appointment_id, events=_names(events)),
    )


def _accepted(taken: Taken) -> Accepted:
    return Accepted(**booked(taken.day, taken.appointment).model_dump(), events=_names(taken.events))


@router.post("/offers/{appointment_id}/accept", response_model=Accepted, responses=RESPONSES)
async def accept_offer(request: Request, appointment_id: str, caller: Authorized) -> object:
    """The caller takes the slot held for them: it is booked and they leave the waitlist."""
    answers = _answers(request, appointment_id)
    return await _answer(lambda: answers.accept(appointment_id, meta_of(caller)), _accepted)


@router.post("/offers/{appointment_id}/decline", response_model=Changed, responses=RESPONSES)
async def decline_offer(
    request: Request, appointment_id: str, caller: Authorized, body: DeclineBody | None = None
) -> object:
    """The caller does not want the slot held for them: it goes to the next caller waiting."""
    answers = _answers(request, appointment_id)
    leave = body.leave_waitlist if body else False
    return await _answer(
        lambda: answers.decline(appointment_id, leave, meta_of(caller)),
        lambda events: Changed(appointment_id=appointment_id, events=_names(events)),
    )
