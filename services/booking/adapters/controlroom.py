"""Control-room requests as events: decided exactly like a call taker's HTTP booking.

A record on ``controlroom.appointment-requests`` (key: the request id; CloudEvents
headers, ``ce_type`` ``AppointmentRequestSubmitted``) carries a ``ControlRoomRequest``.
The answer goes on ``booking.events``: ``SlotBooked`` / ``DiaryCarVisitBooked`` with
the request id, or ``RequestRefused`` with the field, the reason and the nearest
alternatives. The appointment id is ``uuid5(REQUEST_NAMESPACE, request_id)``, so the
control room knows it before the answer arrives. A request id seen before is
recorded as decided and books nothing twice; all of it commits with the consumer's
offset. A request whose id can be read is always answered: one of another type or an
unknown version, or with a field that cannot be read, is refused with the field and the
reason (never the value sent); only a record with no readable id goes to ``deadletter``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
from pydantic import Field, ValidationError

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

# What a control room publishes: this type, in these versions (schemas: the control-room request).
REQUEST_TYPE = "AppointmentRequestSubmitted"
REQUEST_VERSIONS = frozenset({1})
REQUEST_ID_MAX = 200


class ControlRoomRequest(BookingForm):
    """A booking request from a control-room system: where, plus everything a call taker sends."""

    place: Literal["station", "diary-car"]
    place_id: str = Field(description=PLACE_ID)
    request_id: str  # required here, optional over HTTP


def control_room_actor(sent: str | None) -> str:
    """Who a control-room request's events are recorded as done by: ``control-room:<who sent it>``,
    so a history tells them from a person's HTTP call whatever the control room names itself."""
    if not sent:
        return "control-room"
    return sent if sent.partition(":")[0] == "control-room" else f"control-room:{sent}"


class ControlRoomRequests:
    """The consumer of control-room requests."""

    def __init__(self, handlers: BookingHandlers) -> None:
        self._h = handlers

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """Decide one request inside the consumer's transaction."""
        meta = Metadata(
            correlation_id=env.correlation_id,
            actor=control_room_actor(env.actor),
            now=datetime.now(UTC),
            causation_id=str(env.event_id),
        )
        request_id = readable_request_id(env.data)
        try:
            request = read_request(env)
        except Refusal as unreadable:
            if request_id is None:
                # Nobody to answer: put it aside, saying why without repeating what it held.
                why = f"not a control-room request: no readable request_id; {unreadable}"
                raise PoisonRecord(why) from None
            await self._refuse(conn, request_id, unreadable, meta)
            return
        if await run_unit(self._h.store, self._refused_before(request.request_id), within=conn):
            return  # the same request again: refused already, and told so
        form = BookingForm.model_validate(request.model_dump(exclude={"place", "place_id"}))
        try:
            # Booked once: the same request again finds its appointment and records nothing new.
            await self._h.book(request.place, request.place_id, form, meta, within=conn)
        except (BookingRefused, InvalidPersonalData) as exc:
            refusal = exc if isinstance(exc, BookingRefused) else Refusal(exc.field, exc.reason)
            await self._refuse(conn, request.request_id, refusal, meta)

    def _refused_before(self, request_id: str) -> Callable[[BookingUnit], Awaitable[bool]]:
        async def work(unit: BookingUnit) -> bool:
            loaded = await load_one(unit, _fold(request_id), request_stream(request_id))
            return loaded.state.refusal is not None

        return work

    async def _refuse(
        self, conn: asyncpg.Connection, request_id: str, refusal: BookingRefused, meta: Metadata
    ) -> None:
        """Answer the control room with RequestRefused: the field, the reason, any alternatives."""
        command = requests.refusal_of(appointment_id_for(request_id), refusal, meta.now)

        async def work(unit: BookingUnit) -> None:
            loaded = await load_one(unit, _fold(request_id), request_stream(request_id))
            unit.append(loaded, requests.decide(command, loaded.state), meta)

        await run_unit(self._h.store, work, within=conn)


def _fold(request_id: str) -> Fold[Request, RequestEvent]:
    return Fold(
        initial=lambda _: requests.initial_state(request_id),
        evolve=requests.evolve,
        narrow=requests.event_of,
    )


def readable_request_id(data: dict[str, Any]) -> str | None:
    """The request id, when the record holds one that can name a request (and so be answered)."""
    found = data.get("request_id")
    if isinstance(found, str) and 0 < len(found.strip()) <= REQUEST_ID_MAX:
        return found.strip()
    return None


def read_request(env: Envelope) -> ControlRoomRequest:
    """The request as the contract publishes it; Refusal naming the first field that is not."""
    if env.event_type != REQUEST_TYPE:
        raise Refusal("ce_type", f"a control-room request is {REQUEST_TYPE}, not {env.event_type}")
    if env.schema_version not in REQUEST_VERSIONS:
        raise Refusal("schema_version", f"version {env.schema_version} of a request is not one booking knows")
    try:
        return ControlRoomRequest.model_validate(env.data)
    except ValidationError as exc:
        # Field and message only: pydantic's own text would repeat the input (a phone, a name).
        first = exc.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "request"
        raise Refusal(field, first["msg"]) from None
