"""HTTP for an existing appointment: reschedule, cancel, attendance, no-show."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, time
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from schemas.base import DomainEvent
from schemas.booking import CancelReason, Initiator, Outcome
from services.booking.adapters.http import handlers_of, meta_of, refused
from services.booking.app.handlers import NotSeeded
from services.booking.app.lifecycle import Lifecycle
from services.booking.domain.errors import BookingRefused
from services.common.commands import TooMuchContention
from services.common.http import Authorized, problem

router = APIRouter(tags=["appointments"])


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RescheduleBody(_Body):
    """A new slot (London date and start) and why it moves."""

    day: date
    start: time
    initiated_by: Initiator
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class CancelBody(_Body):
    """Who asked to cancel, and why."""

    initiated_by: Initiator
    reason: CancelReason


class AttendanceBody(_Body):
    """The meeting happened: its outcome, and which officer attended."""

    outcome: Outcome
    officer_id: str | None = None


class NoShowBody(_Body):
    """The meeting did not happen: the public did not come, or no officer did."""

    missed_by: Initiator
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class Changed(BaseModel):
    """What the command recorded (no events: it was already so)."""

    appointment_id: str
    events: list[str]


async def _run(appointment_id: str, work: Awaitable[list[DomainEvent]]) -> object:
    try:
        events = await work
    except BookingRefused as exc:
        return refused(exc)
    except (TooMuchContention, NotSeeded) as exc:
        return problem(503, str(exc))
    return Changed(appointment_id=appointment_id, events=[e.event_type for e in events])


def _lifecycle(request: Request) -> Lifecycle:
    return Lifecycle(handlers_of(request))


@router.post("/appointments/{appointment_id}/reschedule", response_model=Changed)
async def reschedule(
    request: Request, appointment_id: str, body: RescheduleBody, caller: Authorized
) -> object:
    """Move an appointment to another slot, on its day or another; 409 with alternatives if taken."""
    work = _lifecycle(request).reschedule(
        appointment_id, body.day, body.start, body.initiated_by, body.reason, meta_of(caller)
    )
    return await _run(appointment_id, work)


@router.post("/appointments/{appointment_id}/cancel", response_model=Changed)
async def cancel(request: Request, appointment_id: str, body: CancelBody, caller: Authorized) -> object:
    """Cancel an appointment, by the police or the public, with the reason."""
    work = _lifecycle(request).cancel(appointment_id, body.initiated_by, body.reason, meta_of(caller))
    return await _run(appointment_id, work)


@router.post("/appointments/{appointment_id}/attendance", response_model=Changed)
async def attended(request: Request, appointment_id: str, body: AttendanceBody, caller: Authorized) -> object:
    """Record that the meeting took place and its outcome."""
    work = _lifecycle(request).attended(appointment_id, body.outcome, body.officer_id, meta_of(caller))
    return await _run(appointment_id, work)


@router.post("/appointments/{appointment_id}/no-show", response_model=Changed)
async def no_show(request: Request, appointment_id: str, body: NoShowBody, caller: Authorized) -> object:
    """Record a no-show by the public, or an officer no-show by the police."""
    work = _lifecycle(request).missed(appointment_id, body.missed_by, body.reason, meta_of(caller))
    return await _run(appointment_id, work)
