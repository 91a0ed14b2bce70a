"""Control-room requests as events: decided exactly like a call taker's HTTP booking.

A record on ``controlroom.appointment-requests`` (key: the request id; CloudEvents
headers, ``ce_type`` ``AppointmentRequestSubmitted``) carries a ``ControlRoomRequest``.
The answer goes on ``booking.events``: ``SlotBooked`` / ``DiaryCarVisitBooked`` with
the request id, or ``RequestRefused`` with the field, the reason and the nearest
alternatives. The appointment id is ``uuid5(REQUEST_NAMESPACE, request_id)``, so the
control room knows it before the answer arrives. A request id seen before is
recorded as decided and books nothing twice; all of it commits with the consumer's
offset.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Literal

import asyncpg

from schemas.envelope import Envelope
from services.booking.adapters.personal import InvalidPersonalData
from services.booking.app.forms import BookingForm
from services.booking.app.handlers import BookingHandlers
from services.booking.domain.errors import BookingRefused, Refusal
from services.booking.domain.requests import refused, request_stream
from services.common.commands import Loaded, Metadata, append_decided
from services.common.consumer import PoisonRecord, Position

REQUEST_NAMESPACE = uuid.UUID("6f1d7c3e-4b1a-5d2e-9a47-3c0b8e21d5a9")


class ControlRoomRequest(BookingForm):
    """A booking request from a control-room system: where, plus everything a call taker sends."""

    place: Literal["station", "diary-car"]
    place_id: str
    request_id: str  # required here, optional over HTTP


def appointment_id_for(request_id: str) -> str:
    """The appointment id a request books (or is refused) under."""
    return str(uuid.uuid5(REQUEST_NAMESPACE, request_id))


class ControlRoomRequests:
    """The consumer of control-room requests."""

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """Decide one request inside the consumer's transaction."""
        try:
            request = ControlRoomRequest.model_validate(env.data)
        except ValueError as exc:
            raise PoisonRecord(f"not a control-room request: {exc}") from exc
        first_time = await conn.fetchval(
            "insert into decided_requests (request_id, outcome) values ($1, '{}'::jsonb)"
            " on conflict do nothing returning true",
            request.request_id,
        )
        if not first_time:
            return  # the same request again: decided already, book nothing twice
        meta = Metadata(
            correlation_id=env.correlation_id,
            actor=env.actor or "control-room",
            now=datetime.now(UTC),
            causation_id=str(env.event_id),
        )
        appointment_id = appointment_id_for(request.request_id)
        form = BookingForm.model_validate(request.model_dump(exclude={"place", "place_id"}))
        try:
            await self._h.book(
                request.place, request.place_id, form, meta, appointment_id=appointment_id, within=conn
            )
            outcome = {"booked": appointment_id}
        except (BookingRefused, InvalidPersonalData) as exc:
            refusal = exc if isinstance(exc, BookingRefused) else Refusal(exc.field, exc.reason)
            event = refused(request.request_id, appointment_id, refusal, meta.now)
            stream = request_stream(request.request_id)
            await append_decided(conn, Loaded(stream, 0, None), [event], self._h.source, meta)
            outcome = {"refused": refusal.code, "field": refusal.field}
        await conn.execute(
            "update decided_requests set appointment_id = $2, outcome = $3::jsonb where request_id = $1",
            request.request_id,
            appointment_id,
            json.dumps(outcome),
        )
