"""The texts model's pure fold: a text's state from its events, replies and call backs in any order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.notifications import (
    CallBackRequested,
    ReplyReceived,
    SatisfactionRecorded,
    SmsDelivered,
    SmsFailed,
    SmsQueued,
    SmsWithdrawn,
)
from schemas.personal import Sealed
from services.projections.domain.texts import CallBack, Text, apply, call_back_of, merge_reply, reply_of

T0 = datetime(2028, 4, 3, 9, tzinfo=UTC)


def queued(message_id: str = "m-1", appointment_id: str | None = "a-1") -> SmsQueued:
    return SmsQueued(
        message_id=message_id, appointment_id=appointment_id, template="booked", template_id="t",
        reference=f"{appointment_id}/{message_id}", send_at=T0 + timedelta(minutes=5), queued_at=T0,
    )  # fmt: skip


def failed(status: str, permanent: bool = False, minutes: int = 10) -> SmsFailed:
    return SmsFailed.model_validate(
        {"message_id": "m-1", "reason": "why", "permanent": permanent, "status": status,
         "failed_at": T0 + timedelta(minutes=minutes)}
    )  # fmt: skip


def fold(*events: object) -> Text | None:
    text: Text | None = None
    for event in events:
        text = apply(text, event)  # type: ignore[arg-type]
    return text


def test_a_queued_text_then_delivered_keeps_its_template_and_times() -> None:
    text = fold(queued())
    assert text is not None and (text.status, text.template, text.recipient) == ("queued", "booked", "public")
    delivered = SmsDelivered(message_id="m-1", gateway_reference="g", delivered_at=T0 + timedelta(minutes=6))
    after = apply(text, delivered)
    assert after is not None and after.status == "delivered"
    assert (after.send_at, after.queued_at, after.delivered_at) == (
        T0 + timedelta(minutes=5),
        T0,
        T0 + timedelta(minutes=6),
    )


def test_a_text_of_no_appointment_or_a_receipt_for_no_known_text_is_not_kept() -> None:
    assert fold(queued(appointment_id=None)) is None
    assert fold(SmsDelivered(message_id="m-1", gateway_reference="g", delivered_at=T0)) is None


def test_notifys_own_failure_is_queued_again_until_the_resends_run_out_then_failed() -> None:
    states = []
    text = fold(queued())
    for n in range(1, 6):
        text = apply(text, failed("technical-failure", minutes=10 * n))
        assert text is not None
        states.append((text.status, text.technical_failures))
    assert states == [("queued", 1), ("queued", 2), ("queued", 3), ("failed", 4), ("failed", 5)]
    assert text is not None and text.failure == "technical-failure" and not text.permanent


def test_a_permanent_failure_or_a_refusal_is_failed_with_notifys_status() -> None:
    for status, permanent in (("permanent-failure", True), ("rejected", True), ("temporary-failure", False)):
        text = fold(queued(), failed(status, permanent))
        assert text is not None and (text.status, text.failure, text.permanent) == (
            "failed",
            status,
            permanent,
        )
        assert text.failed_at == T0 + timedelta(minutes=10)


def test_a_withdrawn_text_says_when() -> None:
    withdrawn = SmsWithdrawn(
        message_id="m-1",
        appointment_id="a-1",
        reason="appointment-moved",
        withdrawn_at=T0 + timedelta(hours=1),
    )
    text = fold(queued(), withdrawn)
    assert text is not None and (text.status, text.withdrawn_at) == ("withdrawn", T0 + timedelta(hours=1))


def test_a_reply_and_its_score_make_the_same_row_in_either_order() -> None:
    reply = reply_of(
        ReplyReceived(
            message_id="r-1", appointment_id="a-1", from_hash="h" * 64,
            body=Sealed(subject_id="s", nonce="n", ciphertext="c"), intent="satisfaction", received_at=T0,
        )
    )  # fmt: skip
    score = reply_of(
        SatisfactionRecorded(
            message_id="r-1", appointment_id="a-1", score=4, recorded_at=T0 + timedelta(seconds=1)
        )
    )
    assert reply is not None and score is not None
    one = merge_reply(merge_reply(None, reply), score)
    other = merge_reply(merge_reply(None, score), reply)
    assert one == other
    assert (one.intent, one.received_at, one.score) == ("satisfaction", T0, 4)


def test_a_reply_matched_to_no_appointment_is_not_an_appointments() -> None:
    unmatched = ReplyReceived(
        message_id="r-2", appointment_id=None, from_hash="h" * 64,
        body=Sealed(subject_id="s", nonce="n", ciphertext="c"), intent="which", received_at=T0,
    )  # fmt: skip
    assert reply_of(unmatched) is None


def test_the_first_call_back_stands_whichever_came_first() -> None:
    def asked(message_id: str, minutes: int) -> CallBack:
        event = CallBackRequested(
            message_id=message_id, appointment_id="a-1", reason="asked-to-move",
            requested_at=T0 + timedelta(minutes=minutes),
        )  # fmt: skip
        flag = call_back_of(event)
        assert flag is not None
        return flag

    early, late, tie = asked("m-2", 1), asked("m-1", 5), asked("m-0", 1)
    assert early.first(late) == late.first(early) == early
    assert early.first(tie) == tie.first(early) == tie  # the same instant: the lower message id
    assert call_back_of(queued()) is None
