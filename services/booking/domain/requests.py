"""A request as it reached booking, and its refusal: the events the control room is told.

A request that cannot be booked never touches a diary day, so these go to the
request's own stream ``request:{request_id}``: appended at expected version 0, a
duplicate request (same request id) is recorded and refused only once.
"""

from __future__ import annotations

from datetime import datetime

from schemas.booking import AppointmentRequested, RequestRefused, Slot
from services.booking.domain.commands import BookDiaryCarVisit, BookStationSlot
from services.booking.domain.errors import BookingRefused, SlotTaken


def request_stream(request_id: str) -> str:
    """The stream of one request."""
    return f"request:{request_id}"


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


def refused(
    request_id: str,
    appointment_id: str,
    refusal: BookingRefused,
    now: datetime,
    alternatives: list[Slot] | None = None,
) -> RequestRefused:
    """The refusal of a request, with the field, the reason and the nearest free slots."""
    if alternatives is None:
        alternatives = refusal.alternatives if isinstance(refusal, SlotTaken) else []
    return RequestRefused(
        appointment_id=appointment_id,
        diary=request_stream(request_id),
        request_id=request_id,
        code=refusal.code,
        field=refusal.field,
        reason=refusal.reason,
        alternatives=tuple(alternatives),
        refused_at=now,
    )
