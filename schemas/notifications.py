"""The notifications service's published events, on ``notifications.events``, keyed by message id.

Events are a storage format: each changes only by adding a new version (a new
class with the same ``event_type`` and a higher ``schema_version``, plus an
upcaster); stored history is never rewritten. Phone numbers and message bodies
are personal data: they appear only ``Sealed`` under the data subject's key.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.base import DomainEvent, event
from schemas.booking import Instant
from schemas.personal import Sealed
from schemas.topics import NOTIFICATIONS_EVENTS

ReplyIntent = Literal["confirm", "cancel", "satisfaction", "unknown"]


class _MessageEvent(DomainEvent):
    topic: ClassVar[str] = NOTIFICATIONS_EVENTS

    message_id: str

    def stream_key(self) -> str:
        """The Kafka key: the message id."""
        return self.message_id


@event
class SmsQueued(_MessageEvent):
    """A text is ready for the SMS gateway (now, or at ``send_at`` for a reminder)."""

    event_type: ClassVar[str] = "SmsQueued"

    appointment_id: str | None
    template: str
    to: Sealed
    body: Sealed
    send_at: Instant
    queued_at: Instant


@event
class SmsDelivered(_MessageEvent):
    """The gateway's receipt: the handset has the text."""

    event_type: ClassVar[str] = "SmsDelivered"

    gateway_reference: str
    delivered_at: Instant


@event
class SmsFailed(_MessageEvent):
    """The gateway could not deliver; ``permanent`` when retrying is pointless."""

    event_type: ClassVar[str] = "SmsFailed"

    reason: str
    permanent: bool
    failed_at: Instant


@event
class ReplyReceived(_MessageEvent):
    """A reply from the public, matched to the message it answers."""

    event_type: ClassVar[str] = "ReplyReceived"

    appointment_id: str | None
    # SHA-256 of the E.164 number with the service's key: lets replies be matched, never read.
    from_hash: str
    body: Sealed
    intent: ReplyIntent
    received_at: Instant


@event
class SatisfactionRecorded(_MessageEvent):
    """The public's satisfaction score (1 to 5) for an appointment."""

    event_type: ClassVar[str] = "SatisfactionRecorded"

    appointment_id: str
    score: Annotated[int, Field(ge=1, le=5)]
    recorded_at: Instant
