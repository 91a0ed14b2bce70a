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

from datetime import UTC, datetime
from typing import Literal

import asyncpg
from pydantic import Field

from schemas.booking import PLACE_ID
from schemas.envelope import Envelope
from services.booking.adapters.personal import InvalidPersonalData
from services.booking.app.forms import BookingForm
from services.booking.app.handlers import BookingHandlers, appointment_id_for
from services.booking.app.ports import BookingUnit
from services.booking.domain import requests
from services.booking.domain.errors import BookingRefused, Refusal
from services.booking.domain.requests import Request, RequestEvent, request_stream
from services.common.consumer import PoisonRecord, Position
from services.common.unit_of_work import Fold, Metadata, load_one, run_unit


class ControlRoomRequest(BookingForm):
    """A booking request from a control-room system: where, plus everything a call taker sends."""

    place: Literal["station", "diary-car"]
    place_id: str = Field(description=PLACE_ID)
    request_id: str  # required here, optional over HTTP


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
        meta = Metadata(
            correlation_id=env.correlation_id,
            actor=env.actor or "control-room",
            now=datetime.now(UTC),
            causation_id=str(env.event_id),
        )
        stream = request_stream(request.request_id)
        fold: Fold[Request, RequestEvent] = Fold(
            initial=lambda _: requests.initial_state(request.request_id),
            evolve=requests.evolve,
            narrow=requests.event_of,
        )

        async def refused_before(unit: BookingUnit) -> bool:
            return (await load_one(unit, fold, stream)).state.refusal is not None

        if await run_unit(self._h.store, refused_before, within=conn):
            return  # the same request again: refused already, and told so
        form = BookingForm.model_validate(request.model_dump(exclude={"place", "place_id"}))
        try:
            # Booked once: the same request again finds its appointment and records nothing new.
            await self._h.book(request.place, request.place_id, form, meta, within=conn)
        except (BookingRefused, InvalidPersonalData) as exc:
            refusal = exc if isinstance(exc, BookingRefused) else Refusal(exc.field, exc.reason)
            command = requests.refusal_of(appointment_id_for(request.request_id), refusal, meta.now)

            async def refuse(unit: BookingUnit) -> None:
                loaded = await load_one(unit, fold, stream)
                unit.append(loaded, requests.decide(command, loaded.state), meta)

            await run_unit(self._h.store, refuse, within=conn)
