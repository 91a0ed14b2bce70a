"""An appointment's texts and their delivery state, as a pure fold of notifications' events.

Built only from ``notifications.events``: each text (``SmsQueued``) with its template and
recipient, then delivered, failed (Notify's status; a technical failure is sent again a few
times, as notifications does) or withdrawn; the caller's replies by what they were read as
(``ReplyReceived``) and the score a reply gave (``SatisfactionRecorded``); whether a person must
call the caller (``CallBackRequested``). No number and no words: the events carry none in clear.

Notifications publishes no event when it hands a text to Notify, so a text is ``queued`` (due at
``send_at``) until a receipt says it was delivered or failed. A text's events are all on one
partition (keyed by its message id), in order; an appointment's texts and call backs may be on
several, so what an appointment shows never depends on the order its texts were applied in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from schemas.base import DomainEvent
from schemas.notifications import (
    CallBackRequested,
    ReplyReceived,
    SatisfactionRecorded,
    SmsDelivered,
    SmsFailed,
    SmsQueued,
    SmsWithdrawn,
)
from services.notifications.domain.message import RESENDS

TextStatus = Literal["queued", "delivered", "failed", "withdrawn"]
# The events this model reads; the others pass without a read.
READ = frozenset(
    e.event_type
    for e in (
        SmsQueued, SmsDelivered, SmsFailed, SmsWithdrawn,
        ReplyReceived, SatisfactionRecorded, CallBackRequested,
    )
)  # fmt: skip

# The events of a text itself (the others are replies and call backs).
TEXT_EVENTS = frozenset(e.event_type for e in (SmsQueued, SmsDelivered, SmsFailed, SmsWithdrawn))


@dataclass(frozen=True)
class Text:
    """One text about an appointment: which template, to whom, and what became of it."""

    message_id: str
    appointment_id: str
    template: str
    recipient: str
    status: TextStatus
    send_at: datetime
    queued_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    failure: str | None  # Notify's status of the last failure (or "rejected"), never its words
    permanent: bool
    technical_failures: int
    withdrawn_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Reply:
    """A text the caller sent about an appointment: when, what it was read as, the score it gave."""

    message_id: str
    appointment_id: str
    intent: str
    received_at: datetime
    score: int | None = None


@dataclass(frozen=True)
class CallBack:
    """A person must call the caller: the first request (by time, then message id) says why."""

    appointment_id: str
    reason: str
    requested_at: datetime
    message_id: str

    def first(self, other: CallBack | None) -> CallBack:
        """The earlier of two requests for one appointment, whichever order they came in."""
        if other is None or (self.requested_at, self.message_id) < (other.requested_at, other.message_id):
            return self
        return other


def apply(text: Text | None, event: DomainEvent) -> Text | None:
    """The text after one of its events (None: no text of an appointment, or not queued yet)."""
    match event:
        case SmsQueued() if event.appointment_id is not None:
            return Text(
                message_id=event.message_id, appointment_id=event.appointment_id, template=event.template,
                recipient=event.recipient, status="queued", send_at=event.send_at,
                queued_at=event.queued_at, delivered_at=None, failed_at=None, failure=None,
                permanent=False, technical_failures=0, withdrawn_at=None, updated_at=event.queued_at,
            )  # fmt: skip
        case _ if text is None:
            return None
        case SmsDelivered():
            return replace(
                text, status="delivered", delivered_at=event.delivered_at, updated_at=event.delivered_at
            )
        case SmsFailed():
            technical = text.technical_failures + (event.status == "technical-failure")
            # Notify's own failure is sent again, a few times at most (notifications' rule).
            again = event.status == "technical-failure" and not event.permanent and technical <= RESENDS
            return replace(
                text,
                status="queued" if again else "failed",
                failed_at=event.failed_at,
                failure=event.status or ("permanent-failure" if event.permanent else "temporary-failure"),
                permanent=event.permanent,
                technical_failures=technical,
                updated_at=event.failed_at,
            )
        case SmsWithdrawn():
            return replace(
                text, status="withdrawn", withdrawn_at=event.withdrawn_at, updated_at=event.withdrawn_at
            )
        case _:
            return text


def reply_of(event: DomainEvent) -> Reply | None:
    """A reply (or a reply's score) about an appointment; None for one matched to none."""
    match event:
        case ReplyReceived() if event.appointment_id is not None:
            return Reply(event.message_id, event.appointment_id, event.intent, event.received_at)
        case SatisfactionRecorded():
            return Reply(
                event.message_id, event.appointment_id, "satisfaction", event.recorded_at, event.score
            )
        case _:
            return None


def merge_reply(kept: Reply | None, reply: Reply) -> Reply:
    """A reply after its ReplyReceived or its score, in either order: the reading wins, the score stays."""
    if kept is None:
        return reply
    if reply.score is not None:
        return replace(kept, score=reply.score)
    return replace(reply, score=kept.score)


def call_back_of(event: DomainEvent) -> CallBack | None:
    """The call back an event asks for, if it does."""
    if isinstance(event, CallBackRequested):
        return CallBack(event.appointment_id, event.reason, event.requested_at, event.message_id)
    return None
