"""What passes between the notifications service and the SMS gateway (GOV.UK Notify's shapes).

These are messages, not history: ``notifications.sms-outbound`` (a text to send, keyed by
message id), ``notifications.sms-receipts`` (Notify's delivery receipts, keyed by message id)
and ``notifications.sms-inbound`` (texts the public sent, keyed by the keyed hash of the
sender's number). Those topics keep 30 days. A text to send must carry the number in clear
(the gateway sends to it); nothing else here does: a receipt does not repeat the number, and
an inbound text names its sender only by the keyed hash. Each changes only by adding a version.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.base import DomainEvent, event
from schemas.booking import Instant
from schemas.topics import SMS_INBOUND, SMS_OUTBOUND, SMS_RECEIPTS

# What Notify says of an SMS in a delivery receipt (its callbacks' final statuses).
ReceiptStatus = Literal["delivered", "permanent-failure", "temporary-failure", "technical-failure"]
E164 = Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$")]


@event
class SmsToSend(DomainEvent):
    """A text for the gateway: Notify's send_sms_notification arguments, and our ids."""

    event_type: ClassVar[str] = "SmsToSend"
    topic: ClassVar[str] = SMS_OUTBOUND

    message_id: str
    phone_number: E164
    template_id: str
    template: str
    personalisation: dict[str, str]
    reference: str
    appointment_id: str | None = None
    queued_at: Instant

    def stream_key(self) -> str:
        """The Kafka key: the message id."""
        return self.message_id


@event
class SmsReceipt(DomainEvent):
    """Notify's delivery receipt of one text (its callback's fields, less the number)."""

    event_type: ClassVar[str] = "SmsReceipt"
    topic: ClassVar[str] = SMS_RECEIPTS

    id: str = Field(description="Notify's id of the notification (unique per text; a repeat is the same).")
    reference: str | None
    status: ReceiptStatus
    created_at: Instant
    completed_at: Instant | None = None
    sent_at: Instant | None = None
    notification_type: Literal["sms"] = "sms"
    template_id: str | None = None
    template_version: int | None = None

    def stream_key(self) -> str:
        """The Kafka key: our message id, read from the reference."""
        return message_of(self.reference) or self.id


@event
class SmsReplied(DomainEvent):
    """A text the public sent to the force's number (Notify's inbound callback)."""

    event_type: ClassVar[str] = "SmsReplied"
    topic: ClassVar[str] = SMS_INBOUND

    id: str = Field(description="Notify's id of the inbound text (a repeated callback has the same).")
    source_hash: str = Field(description="The keyed hash (HMAC-SHA-256) of the sender's E.164 number.")
    destination_number: str
    message: str = Field(max_length=918)
    date_received: Instant

    def stream_key(self) -> str:
        """The Kafka key: the sender's number's keyed hash."""
        return self.source_hash


def reference_of(appointment_id: str | None, message_id: str) -> str:
    """Notify's reference of a text: which appointment and which message, nothing personal."""
    return f"appointment:{appointment_id or '-'}:message:{message_id}"


def message_of(reference: str | None) -> str | None:
    """The message id a reference names (None: not one of ours)."""
    if not reference or ":message:" not in reference:
        return None
    return reference.rpartition(":message:")[2] or None
