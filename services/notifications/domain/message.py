"""One text's life, its own stream (``message:{id}``): queued, then delivered or failed, once per receipt.

``decide_receipt`` is pure: given the text as it stands and one of Notify's delivery
receipts, the events it gives. A receipt seen before gives nothing (Notify repeats its
callbacks); a technical failure is sent again (a few times at most); a permanent failure of
a text to the public, or Notify refusing it outright (a 400: a landline, say), asks for a call
back, since the caller will not read anything we send. An officer's text failing never flags
the caller's appointment: the officer's work mobile is the supervisor's to put right.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, assert_never

from schemas.base import DomainEvent
from schemas.gateway import ReceiptStatus
from schemas.notifications import (
    CallBackRequested,
    Recipient,
    SmsDelivered,
    SmsFailed,
    SmsQueued,
    SmsWithdrawn,
)

MessageEvent = SmsQueued | SmsDelivered | SmsFailed | SmsWithdrawn | CallBackRequested
MessageStatus = Literal["unknown", "queued", "delivered", "failed", "withdrawn"]
# How many times a text Notify failed to send for its own reasons is sent again.
RESENDS = 3
WHY = {
    "permanent-failure": "the number does not take texts (not a mobile, or no longer in use)",
    "temporary-failure": "the phone was off or out of signal until Notify stopped trying",
    "technical-failure": "Notify could not send it for a technical reason",
}


def stream_of(message_id: str) -> str:
    """The stream of one text."""
    return f"message:{message_id}"


@dataclass(frozen=True)
class Message:
    """What is known of one text."""

    message_id: str
    appointment_id: str | None = None
    status: MessageStatus = "unknown"
    receipts: frozenset[str] = frozenset()
    technical_failures: int = 0
    call_back: bool = False
    recipient: Recipient = "public"


@dataclass(frozen=True)
class Receipt:
    """One delivery receipt, as the decision needs it."""

    receipt_id: str
    status: ReceiptStatus
    at: datetime


def initial(stream_id: str) -> Message:
    """A text not queued yet."""
    return Message(stream_id.removeprefix("message:"))


def narrow(event: DomainEvent) -> MessageEvent:
    """The events a message stream holds."""
    if isinstance(event, SmsQueued | SmsDelivered | SmsFailed | SmsWithdrawn | CallBackRequested):
        return event
    raise TypeError(f"{event.event_type} is not a message event")


def evolve(state: Message, event: MessageEvent) -> Message:
    """The text after one of its events."""
    match event:
        case SmsQueued():
            return replace(
                state, appointment_id=event.appointment_id, status="queued", recipient=event.recipient
            )
        case SmsDelivered():
            return replace(state, status="delivered", receipts=state.receipts | _id(event.receipt_id))
        case SmsFailed():
            technical = state.technical_failures + (event.status == "technical-failure")
            status: MessageStatus = (
                "failed" if event.permanent or event.status != "technical-failure" else "queued"
            )
            return replace(
                state,
                status=status,
                receipts=state.receipts | _id(event.receipt_id),
                technical_failures=technical,
            )
        case SmsWithdrawn():
            return replace(state, status="withdrawn")
        case CallBackRequested():
            return replace(state, call_back=True)
        case _:
            assert_never(event)


def _id(receipt_id: str | None) -> frozenset[str]:
    return frozenset() if receipt_id is None else frozenset({receipt_id})


def decide_receipt(state: Message, receipt: Receipt) -> list[MessageEvent]:
    """The events a delivery receipt gives (none for a repeat, or for a text that is not ours)."""
    if state.status == "unknown" or receipt.receipt_id in state.receipts:
        return []
    if receipt.status == "delivered":
        return [
            SmsDelivered(
                message_id=state.message_id,
                gateway_reference=receipt.receipt_id,
                delivered_at=receipt.at,
                receipt_id=receipt.receipt_id,
            )
        ]
    failed = SmsFailed(
        message_id=state.message_id,
        reason=WHY[receipt.status],
        permanent=receipt.status == "permanent-failure",
        failed_at=receipt.at,
        status=receipt.status,
        receipt_id=receipt.receipt_id,
    )
    if receipt.status == "permanent-failure":
        return [failed, *_call_back(state, receipt.at)]
    return [failed]


def _call_back(state: Message, at: datetime) -> list[MessageEvent]:
    """A person must call the caller: their text will never reach them (once per text)."""
    if state.recipient != "public" or not state.appointment_id or state.call_back:
        return []
    return [
        CallBackRequested(
            message_id=state.message_id,
            appointment_id=state.appointment_id,
            reason="text-not-delivered",
            requested_at=at,
        )
    ]


def withdraw(
    state: Message, reason: Literal["appointment-moved", "appointment-cancelled"], at: datetime
) -> list[MessageEvent]:
    """A queued text that has not gone: withdrawn, since what it says no longer holds."""
    if state.status != "queued":
        return []
    return [
        SmsWithdrawn(
            message_id=state.message_id, appointment_id=state.appointment_id, reason=reason, withdrawn_at=at
        )
    ]


def resend(state: Message, event: SmsFailed) -> bool:
    """Whether a failure is one to send again: Notify's own technical failure, a few times at most."""
    return event.status == "technical-failure" and state.technical_failures <= RESENDS


def rejected(state: Message, reason: str, at: datetime) -> list[MessageEvent]:
    """Notify refused the request (a 400): final, with Notify's reason; the caller is to be called."""
    if state.status in ("unknown", "delivered", "failed"):
        return []
    failed = SmsFailed(
        message_id=state.message_id, reason=reason, permanent=True, failed_at=at, status="rejected"
    )
    return [failed, *_call_back(state, at)]
