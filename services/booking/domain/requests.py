"""A request as it reached booking, and its refusal: the events the control room is told.

A request that cannot be booked never touches a diary day, so these go to the
request's own stream ``request:{request_id}``: a request id names one request, so
the same request again records nothing new, and a different one under the same id
is refused (``RequestReused``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from schemas.base import DomainEvent
from schemas.booking import AppointmentRequested, Instant, RefusalCode, RequestRefused, Slot
from services.booking.domain.commands import BookDiaryCarVisit, BookStationSlot
from services.booking.domain.errors import BookingRefused, RequestReused, SlotTaken

# Every event a request's stream holds; ``evolve`` must handle each (mypy checks it does).
RequestEvent = AppointmentRequested | RequestRefused


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordRequest(_Command):
    """Record a booking request as received, before it is decided."""

    booking: BookStationSlot | BookDiaryCarVisit


class RefuseRequest(_Command):
    """Record why a request was not booked, and the nearest free slots."""

    appointment_id: str
    code: RefusalCode
    field: str
    reason: str
    alternatives: tuple[Slot, ...] = ()
    now: Instant


RequestCommand = RecordRequest | RefuseRequest


@dataclass(frozen=True)
class Request:
    """What one request id has been used for: the request as received, and its refusal."""

    request_id: str
    received: AppointmentRequested | None = None
    refusal: RequestRefused | None = None


def request_stream(request_id: str) -> str:
    """The stream of one request."""
    return f"request:{request_id}"


def initial_state(request_id: str) -> Request:
    """A request id not used yet."""
    return Request(request_id)


def requested(command: BookStationSlot | BookDiaryCarVisit, request_id: str) -> AppointmentRequested:
    """The record of a booking request as received, before it is decided."""
    station = isinstance(command, BookStationSlot)
    return AppointmentRequested(
        appointment_id=command.appointment_id,
        diary=request_stream(request_id),
        request_id=request_id,
        place="station" if station else "diary-car",
        place_id=command.station_id if isinstance(command, BookStationSlot) else command.district_id,
        day=command.day,
        incident_grade=command.incident_grade,
        caller=command.caller,
        briefing=command.briefing,
        requested_at=command.now,
    )


def refusal_of(
    appointment_id: str, refusal: BookingRefused, now: datetime, alternatives: list[Slot] | None = None
) -> RefuseRequest:
    """The command recording a refusal; a lost race brings its own nearest free slots."""
    if alternatives is None:
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


def refused(
    request_id: str,
    appointment_id: str,
    refusal: BookingRefused,
    now: datetime,
    alternatives: list[Slot] | None = None,
) -> RequestRefused:
    """The refusal of a request, with the field, the reason and the nearest free slots."""
    return _refused(request_id, refusal_of(appointment_id, refusal, now, alternatives))


def _what(received: AppointmentRequested) -> tuple[object, ...]:
    # Sealed details differ with every sealing, so only what is in the clear is compared.
    where = (received.place, received.place_id, received.day)
    return (received.appointment_id, *where, received.incident_grade, received.briefing.case_reference)


def event_of(event: DomainEvent) -> RequestEvent:
    """This stream's event, narrowed; TypeError for an event that does not belong to it."""
    if isinstance(event, RequestEvent):
        return event
    raise TypeError(f"{event.event_type} is not an event of a request")


def decide(command: RequestCommand, state: Request) -> list[RequestEvent]:
    """The events a request command causes; raises RequestReused for a different request."""
    match command:
        case RecordRequest():
            received = requested(command.booking, state.request_id)
            if state.received is None:
                return [received]
            if _what(state.received) == _what(received):
                return []
            raise RequestReused(state.request_id)
        case RefuseRequest():
            return [] if state.refusal is not None else [_refused(state.request_id, command)]
        case _:
            assert_never(command)


def evolve(state: Request, event: RequestEvent) -> Request:
    """The request after one of its events."""
    match event:
        case AppointmentRequested():
            return Request(state.request_id, event, state.refusal)
        case RequestRefused():
            return Request(state.request_id, state.received, event)
        case _:
            assert_never(event)


def fold(state: Request, events: Iterable[DomainEvent]) -> Request:
    """The request after all these events (as stored or as just decided), in order."""
    for event in events:
        state = evolve(state, event_of(event))
    return state
