"""The notifications service's HTTP operations: Notify's callbacks, an appointment's texts, its .ics.

The callbacks take GOV.UK Notify's shapes (delivery receipt; received text) from the
``gateway`` role (the bearer token Notify is configured with) and put each on its topic,
keyed and identified by Notify's id: Notify retries a callback up to five times, and every
repeat carries the same event id, which the consumer has applied already. A sender's
number is turned into its keyed hash here and goes no further in clear.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import phonenumbers
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from schemas.base import DomainEvent
from schemas.envelope import Envelope
from schemas.gateway import SmsReceipt, SmsReplied, message_of
from services.common import kafka
from services.common.http import Authorized, Problem, plausible_id, unknown
from services.common.logging import correlation_id, get_logger
from services.common.runtime import Runtime
from services.notifications.adapters import tables
from services.notifications.adapters.calendar_links import opens
from services.notifications.adapters.keys import number_hash
from services.notifications.app import access_log
from services.notifications.app.ports import Notifications
from services.notifications.domain.calendar import ics

router = APIRouter()
NO_APPOINTMENT = "no appointment with this id is known to the notifications service"
NO_CALENDAR = "there is no calendar file for this appointment and key"


def errors(**described: str) -> dict[int | str, dict[str, Any]]:
    """An operation's own error statuses (``_404="why"``), each answered with the Problem body."""
    return {int(status[1:]): {"model": Problem, "description": text} for status, text in described.items()}


def refusal(field: str, reason: str) -> HTTPException:
    """A 422 naming the field and why (a rule the schema cannot say), never the value sent."""
    return HTTPException(422, {"detail": reason, "errors": [{"field": field, "reason": reason}]})


# A number is digits, perhaps with a plus, spaces, brackets and dashes; never letters.
_NOT_A_NUMBER = re.compile(r"[^\d\s+()-]")
log = get_logger(__name__)
CALLBACK_NAMESPACE = uuid.UUID("6a0d3c52-8f41-4e7b-b2d9-0c1e5f7a9b34")
NotifyStatus = Literal[
    "delivered", "permanent-failure", "temporary-failure", "technical-failure", "sending", "sent", "pending"
]
FINAL = frozenset({"delivered", "permanent-failure", "temporary-failure", "technical-failure"})


def _written(value: object) -> object:
    # An instant comes as ISO 8601 text (as the document says), never as a number of seconds.
    if not isinstance(value, str | datetime):
        raise ValueError("an instant is written as ISO 8601 text")
    return value


WrittenInstant = Annotated[AwareDatetime, BeforeValidator(_written)]


class DeliveryReceipt(BaseModel):
    """Notify's delivery receipt callback (its documented fields)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    reference: str | None = Field(default=None, max_length=1000)
    to: str = Field(max_length=40)
    status: NotifyStatus
    created_at: WrittenInstant
    completed_at: WrittenInstant | None = None
    sent_at: WrittenInstant | None = None
    notification_type: Literal["sms"] = "sms"
    template_id: str | None = None
    template_version: StrictInt | None = None


class ReceivedText(BaseModel):
    """Notify's received text callback."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    source_number: str = Field(min_length=3, max_length=40)
    destination_number: str = Field(max_length=40)
    message: str = Field(max_length=918)
    date_received: WrittenInstant


def _runtime(request: Request) -> tuple[Runtime, Notifications]:
    handlers: Notifications | None = getattr(request.app.state, "handlers", None)
    if handlers is None:
        raise ConnectionError("the service is still starting")  # an outage: 503 with a retry hint
    runtime: Runtime = request.app.state.runtime
    return runtime, handlers


async def _publish(
    runtime: Runtime, event: DomainEvent, event_id: uuid.UUID, subject: str, actor: str
) -> None:
    envelope = Envelope(
        event_id=event_id,
        event_type=event.event_type,
        schema_version=event.schema_version,
        source=runtime.source,
        subject=subject,
        time=datetime.now(UTC),
        correlation_id=str(event_id),
        actor=actor,
        data=event.model_dump(mode="json"),
    )
    send = kafka.publisher(runtime.kafka, runtime.settings.topic_prefix)
    await send(event.topic, event.stream_key().encode(), envelope.kafka_value(), envelope.kafka_headers())


@router.post("/gateway/receipts", status_code=204, tags=["gateway"])
async def delivery_receipt(body: DeliveryReceipt, request: Request, caller: Authorized) -> Response:
    """Notify's delivery receipt of a text: onto notifications.sms-receipts (the number is not kept)."""
    if body.status not in FINAL:
        return Response(status_code=204)  # not final yet: Notify calls again when it is
    if message_of(body.reference) is None:
        # Not a text of ours (sent from Notify's own pages, say): nothing of it goes further.
        log.info("a receipt for no text of this service; dropped", notify_id=body.id)
        return Response(status_code=204)
    runtime, _ = _runtime(request)
    receipt = SmsReceipt.model_validate(body.model_dump(exclude={"to"}))
    event_id = uuid.uuid5(CALLBACK_NAMESPACE, f"receipt:{body.id}")
    await _publish(runtime, receipt, event_id, f"receipt:{body.id}", f"{caller.role.value}:{caller.subject}")
    return Response(status_code=204)


def e164(raw: str) -> str:
    """A sender's number in E.164 (Notify sends UK numbers as 447700900123)."""
    try:
        if _NOT_A_NUMBER.search(raw):
            raise phonenumbers.NumberParseException(phonenumbers.NumberParseException.NOT_A_NUMBER, "letters")
        bare = re.sub(r"[\s()-]", "", raw)
        number = phonenumbers.parse(bare if bare.startswith(("+", "0")) else f"+{bare}", "GB")
        if not phonenumbers.is_possible_number(number):
            raise phonenumbers.NumberParseException(phonenumbers.NumberParseException.NOT_A_NUMBER, "length")
    except phonenumbers.NumberParseException:
        raise refusal("source_number", "the sender's number cannot be read as a phone number") from None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@router.post(
    "/gateway/inbound",
    status_code=204,
    tags=["gateway"],
    responses=errors(
        _422="A field Notify sent cannot be read (the sender's number, say): `errors` names it."
    ),
)
async def received_text(body: ReceivedText, request: Request, caller: Authorized) -> Response:
    """A text the public sent: onto notifications.sms-inbound under the keyed hash of the sender's number."""
    runtime, n = _runtime(request)
    hashed = number_hash(e164(body.source_number), n.number_secret)
    replied = SmsReplied(
        id=body.id,
        source_hash=hashed,
        destination_number=body.destination_number,
        message=body.message,
        date_received=body.date_received,
    )
    event_id = uuid.uuid5(CALLBACK_NAMESPACE, f"inbound:{body.id}")
    await _publish(runtime, replied, event_id, f"inbound:{body.id}", f"{caller.role.value}:{caller.subject}")
    return Response(status_code=204)


class TextLine(BaseModel):
    """One text of an appointment: which, when, and what became of it (no number, no body)."""

    message_id: str
    template: str
    send_at: datetime
    sent_at: datetime | None
    status: str


class ReplyLine(BaseModel):
    """One text the caller sent about the appointment: when, what it was read as, and its words."""

    received_at: datetime
    intent: str = Field(description="confirm, cancel, move, satisfaction, stop, which or unknown")
    words: str | None = Field(description="What the caller wrote; null once the caller has been erased.")


class AppointmentTexts(BaseModel):
    """An appointment's texts, whether someone must call the caller, and the caller's replies."""

    appointment_id: str
    call_back: bool
    texts: list[TextLine]
    replies: list[ReplyLine] = Field(default_factory=list)


@router.get(
    "/appointments/{appointment_id}/messages",
    response_model=AppointmentTexts,
    tags=["texts"],
    responses=errors(_404="No appointment with this id is known to the notifications service."),
)
async def appointment_texts(appointment_id: str, request: Request, caller: Authorized) -> AppointmentTexts:
    """The texts of an appointment and their state, the call-back flag, and the caller's replies."""
    if not plausible_id(appointment_id):
        raise unknown("appointment_id", NO_APPOINTMENT)
    runtime, n = _runtime(request)
    async with runtime.db.acquire() as conn:
        texts, flag = await tables.texts_of(conn, appointment_id)
        replies = await tables.replies_of(conn, appointment_id)
    if flag is None:
        raise unknown("appointment_id", NO_APPOINTMENT)
    lines = [
        ReplyLine(received_at=r.received_at, intent=r.intent, words=await n.keys.open(r.body))
        for r in replies
    ]
    shown = [r.body.subject_id for r, line in zip(replies, lines, strict=True) if line.words is not None]
    if shown:
        # Who read a caller's words, whose, when and how (never the words), kept before they go.
        now = datetime.now(UTC)
        await access_log.record_replies_read(
            n, caller, appointment_id, shown, len(shown), now, correlation_id.get() or str(uuid.uuid4())
        )
    if lines:
        log.info(
            "replies opened",
            appointment_id=appointment_id,
            replies=len(lines),
            shown=len(shown),
            by=caller.actor,
        )
    return AppointmentTexts(
        appointment_id=appointment_id,
        call_back=flag,
        texts=[TextLine(**t.__dict__) for t in texts],
        replies=lines,
    )


@router.get(
    "/calendar/{appointment_id}.ics",
    tags=["texts"],
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "The .ics file."},
        **errors(_404="No calendar file: the appointment is unknown, or the key is not its own."),
    },
)
async def calendar_file(
    appointment_id: str, request: Request, k: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    """The appointment's .ics, for the link in its text (the key in the link opens it; no token)."""
    runtime, n = _runtime(request)
    if not plausible_id(appointment_id) or not opens(appointment_id, k, n.number_secret):
        raise unknown("appointment_id", NO_CALENDAR)
    async with runtime.db.acquire() as conn:
        appointment = await tables.appointment(conn, appointment_id)
    if appointment is None or appointment.starts_at is None:
        raise unknown("appointment_id", NO_CALENDAR)
    body: Any = ics(appointment, n.rules, datetime.now(UTC))
    return Response(
        body, media_type="text/calendar", headers={"content-disposition": "inline; filename=appointment.ics"}
    )


class OfficerMobile(BaseModel):
    """An officer's work mobile, which their duty texts go to."""

    mobile: str = Field(min_length=3, max_length=40)


@router.put(
    "/officers/{officer_id}/mobile",
    status_code=204,
    tags=["texts"],
    responses=errors(_422="Not a UK mobile number, or an officer id that cannot be one."),
)
async def officer_mobile(officer_id: str, body: OfficerMobile, request: Request, _: Authorized) -> Response:
    """Set the work mobile an officer on appointment duty is texted their day and its changes on."""
    if not plausible_id(officer_id):
        raise refusal("officer_id", "not an officer id")
    runtime, _n = _runtime(request)
    number = work_mobile(body.mobile, production=runtime.settings.is_production)
    async with runtime.db.acquire() as conn:
        await tables.set_officer_mobile(conn, officer_id, number, datetime.now(UTC))
    return Response(status_code=204)


def work_mobile(raw: str, *, production: bool) -> str:
    """A UK mobile in E.164 (Ofcom's drama range too, outside production), or a 422 naming the field."""
    try:
        number = phonenumbers.parse(re.sub(r"[\s()-]", "", raw), "GB")
    except phonenumbers.NumberParseException:
        number = None
    e164 = (
        "" if number is None else str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    )
    drama = re.fullmatch(r"\+447700900\d{3}", e164) is not None and not production
    mobile = number is not None and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    if not (drama or (mobile and e164.startswith("+447"))):
        raise refusal("mobile", "not a UK mobile number: an officer's texts need one")
    return e164
