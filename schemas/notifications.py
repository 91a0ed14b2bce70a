"""The notifications service's published events, on ``notifications.events``, keyed by message id.

Events are a storage format: each changes only by adding a new version (a new
class with the same ``event_type`` and a higher ``schema_version``, plus an
upcaster); stored history is never rewritten. Phone numbers and message bodies
are personal data: they appear only ``Sealed`` under the data subject's key.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from schemas.base import DomainEvent, event, upcaster
from schemas.booking import Instant
from schemas.personal import Sealed
from schemas.topics import NOTIFICATIONS_EVENTS

ReplyIntent = Literal["confirm", "cancel", "satisfaction", "unknown"]
# Version 2 of ReplyReceived reads more: asked to move, to stop texts, or asked which appointment.
ReplyIntentV2 = Literal["confirm", "cancel", "move", "satisfaction", "stop", "which", "unknown"]
# GOV.UK Notify's final statuses of a text (its delivery receipts), and "rejected": Notify refused
# the request itself (a 400, with its reason).
NotifyStatus = Literal["permanent-failure", "temporary-failure", "technical-failure", "rejected"]
Recipient = Literal["public", "officer"]
CallBackReason = Literal["text-not-delivered", "asked-to-move", "asked-which-appointment"]


class _MessageEvent(DomainEvent):
    topic: ClassVar[str] = NOTIFICATIONS_EVENTS

    message_id: str

    def stream_key(self) -> str:
        """The Kafka key: the message id."""
        return self.message_id


@event
class SmsQueuedV1(_MessageEvent):
    """A text is ready for the SMS gateway (now, or at ``send_at`` for a reminder)."""

    # Version 1 (never published) carried the number and the body, sealed; version 2 carries neither.

    model_config = ConfigDict(title="SmsQueued")
    event_type: ClassVar[str] = "SmsQueued"

    appointment_id: str | None
    template: str
    to: Sealed
    body: Sealed
    send_at: Instant
    queued_at: Instant


@event
class SmsQueued(_MessageEvent):
    """A text is queued for the SMS gateway, to go at ``send_at`` (never in quiet hours).

    Only what ties it to its appointment and its Notify template: no number, no body.
    ``reference`` is Notify's reference of the text (the appointment and message ids).
    """

    event_type: ClassVar[str] = "SmsQueued"
    schema_version: ClassVar[int] = 2

    appointment_id: str | None
    template: str
    template_id: str
    reference: str
    recipient: Recipient = "public"
    send_at: Instant
    queued_at: Instant


@upcaster("SmsQueued", 1)
def _sms_queued_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # The sealed number and body are dropped: version 2 keeps no personal data at all.
    kept = {k: v for k, v in data.items() if k not in ("to", "body")}
    return kept | {"template_id": "", "reference": data["message_id"]}


@event
class SmsDelivered(_MessageEvent):
    """The gateway's receipt: the handset has the text."""

    event_type: ClassVar[str] = "SmsDelivered"

    gateway_reference: str
    delivered_at: Instant
    # Added: the receipt's own id (Notify's callback id), so a repeated receipt changes nothing.
    receipt_id: str | None = None


@event
class SmsFailed(_MessageEvent):
    """The gateway could not deliver; ``permanent`` when retrying is pointless."""

    event_type: ClassVar[str] = "SmsFailed"

    reason: str
    permanent: bool
    failed_at: Instant
    # Added: Notify's status, and the receipt's id when a receipt said so.
    status: NotifyStatus | None = None
    receipt_id: str | None = None


@event
class ReplyReceivedV1(_MessageEvent):
    """A reply from the public, matched to the message it answers."""

    model_config = ConfigDict(title="ReplyReceived")
    event_type: ClassVar[str] = "ReplyReceived"

    appointment_id: str | None
    # SHA-256 of the E.164 number with the service's key: lets replies be matched, never read.
    from_hash: str
    body: Sealed
    intent: ReplyIntent
    received_at: Instant


@event
class ReplyReceived(_MessageEvent):
    """A text from the public, from a number that has appointments, read and matched to one of them.

    ``message_id`` is the reply's own (from the gateway's id of it); ``appointment_id`` the one it
    was matched to (None: it could not be told which). The words are sealed under the caller's key.
    """

    event_type: ClassVar[str] = "ReplyReceived"
    schema_version: ClassVar[int] = 2

    appointment_id: str | None
    # HMAC-SHA-256 of the E.164 number with the service's key: lets replies be matched, never read.
    from_hash: str
    body: Sealed
    intent: ReplyIntentV2
    received_at: Instant


@upcaster("ReplyReceived", 1)
def _reply_received_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data)  # every version 1 intent reads the same in version 2


@event
class SatisfactionRecorded(_MessageEvent):
    """The public's satisfaction score (1 to 5) for an appointment."""

    event_type: ClassVar[str] = "SatisfactionRecorded"

    appointment_id: str
    score: Annotated[int, Field(ge=1, le=5)]
    recorded_at: Instant


@event
class SmsWithdrawn(_MessageEvent):
    """A queued text that had not gone yet will not go: what it said no longer holds."""

    event_type: ClassVar[str] = "SmsWithdrawn"

    appointment_id: str | None
    reason: Literal["appointment-moved", "appointment-cancelled"]
    withdrawn_at: Instant


@event
class CallBackRequested(_MessageEvent):
    """The appointment needs a person to call the caller (a text could not reach them, or they asked)."""

    event_type: ClassVar[str] = "CallBackRequested"

    appointment_id: str
    reason: CallBackReason
    requested_at: Instant


# The gateway's messages (sms-outbound, sms-receipts, sms-inbound) are published with these events.
import schemas.gateway  # noqa: E402, F401


@event
class RepliesRead(DomainEvent):
    """A person read a caller's replies in clear (``GET /appointments/{id}/messages``): DPA 2018 s.62.

    Who (the token's subject and role), when, whose (the subject ids whose words were shown), which
    appointment and through what; never the words. Appended to the notifications' own chained store
    (one stream per London day, ``access-log:{YYYY-MM-DD}``) before the answer goes, and published
    here so the projections' access log shows it beside the other consultations.
    """

    event_type: ClassVar[str] = "RepliesRead"
    topic: ClassVar[str] = NOTIFICATIONS_EVENTS

    appointment_id: str
    subject_ids: tuple[str, ...] = Field(description="Every subject whose words were shown.")
    replies: Annotated[int, Field(ge=1, description="How many replies were shown in clear.")]
    accessed_by: str = Field(description="The token's subject (a collar number or a user name).")
    role: str
    channel: str = Field(description="How it was read: the HTTP operation.")
    accessed_at: Instant

    def stream_key(self) -> str:
        """The Kafka key: the appointment whose replies were read."""
        return self.appointment_id
