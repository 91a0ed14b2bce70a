"""A control-room request's refusal: the event the control room is told when nothing was booked.

A request that cannot be booked never touches a diary day, so its refusal goes to the
request's own stream ``request:{request_id}``, once. Earlier versions also recorded the
request as received there (``AppointmentRequested``); such streams still fold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from schemas.base import DomainEvent
from schemas.booking import AppointmentRequested, Instant, RefusalCode, RequestRefused, Slot
from services.booking.domain.errors import BookingRefused, SlotTaken

# Every event a request's stream holds; ``evolve`` must handle each (mypy checks it does).
RequestEvent = AppointmentRequested | RequestRefused


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RefuseRequest(_Command):
    """Record why a request was not booked, and the nearest free slots."""

    appointment_id: str
    code: RefusalCode
    field: str
    reason: str
    alternatives: tuple[Slot, ...] = ()
    now: Instant


RequestCommand = RefuseRequest


@dataclass(frozen=True)
class Request:
    """Whether one request id has been refused, and how."""

    request_id: str
    refusal: RequestRefused | None = None


def request_stream(request_id: str) -> str:
    """The stream of one request."""
    return f"request:{request_id}"


def initial_state(request_id: str) -> Request:
    """A request id not used yet."""
    return Request(request_id)


def refusal_of(appointment_id: str, refusal: BookingRefused, now: datetime) -> RefuseRequest:
    """The command recording a refusal; a lost race brings its own nearest free slots."""
    alternatives = refusal.alternatives if isinstance(refusal, SlotTaken) else []
    return RefuseRequest(
        appointment_id=appointment_id,
        code=refusal.code,
        field=refusal.field,
        reason=refusal.reason,
        alternatives=tuple(alternatives),
        now=now,
    )


def _refused(request_id: str, command: RefuseRequest) -> RequestRefused:
    return RequestRefused(
        appointment_id=command.appointment_id,
        diary=request_stream(request_id),
        request_id=request_id,
        code=command.code,
        field=command.field,
        reason=command.reason,
        alternatives=command.alternatives,
        refused_at=command.now,
    )


def event_of(event: DomainEvent) -> RequestEvent:
    """This stream's event, narrowed; TypeError for an event that does not belong to it."""
    if isinstance(event, RequestEvent):
        return event
    raise TypeError(f"{event.event_type} is not an event of a request")


def decide(command: RequestCommand, state: Request) -> list[RequestEvent]:
    """The events a request command causes: a refusal, recorded once."""
    match command:
        case RefuseRequest():
            return [] if state.refusal is not None else [_refused(state.request_id, command)]
        case _:
            assert_never(command)


def evolve(state: Request, event: RequestEvent) -> Request:
    """The request after one of its events."""
    match event:
        case AppointmentRequested():
            return state  # recorded as received by an earlier version; nothing decides on it now
        case RequestRefused():
            return Request(state.request_id, event)
        case _:
            assert_never(event)


def fold(state: Request, events: Iterable[DomainEvent]) -> Request:
    """The request after all these events (as stored or as just decided), in order."""
    for event in events:
        state = evolve(state, event_of(event))
    return state
