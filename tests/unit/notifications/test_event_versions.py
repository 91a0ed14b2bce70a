"""Older versions of the notifications events read as the newest, never rewritten."""

from __future__ import annotations

from schemas.base import parse_event
from schemas.notifications import ReplyReceived, SmsQueued

SEALED = {"subject_id": "subject-1", "nonce": "bm9uY2U", "ciphertext": "Y2lwaGVy"}


def test_sms_queued_v1_reads_as_v2_without_the_sealed_number_and_body() -> None:
    stored = {
        "message_id": "m-1", "appointment_id": "a-1", "template": "appointment-booked", "to": SEALED,
        "body": SEALED, "send_at": "2026-12-01T10:00:00Z", "queued_at": "2026-12-01T10:00:00Z",
    }  # fmt: skip
    queued = parse_event("SmsQueued", 1, dict(stored))
    assert isinstance(queued, SmsQueued)
    assert (queued.template, queued.template_id, queued.reference) == ("appointment-booked", "", "m-1")
    assert "to" not in queued.model_dump() and "body" not in queued.model_dump()
    assert stored["to"] == SEALED  # what was stored is not changed


def test_reply_received_v1_reads_as_v2_with_the_same_intent() -> None:
    stored = {
        "message_id": "r-1", "appointment_id": "a-1", "from_hash": "h", "body": SEALED, "intent": "confirm",
        "received_at": "2026-12-01T10:00:00Z",
    }  # fmt: skip
    reply = parse_event("ReplyReceived", 1, stored)
    assert isinstance(reply, ReplyReceived) and reply.intent == "confirm"
