"""A text's receipts: given the text, when a receipt comes, then its events; a repeat changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.notifications import CallBackRequested, SmsDelivered, SmsFailed, SmsQueued, SmsWithdrawn
from services.notifications.domain.message import (
    RESENDS,
    Message,
    MessageEvent,
    Receipt,
    decide_receipt,
    evolve,
    initial,
    rejected,
    resend,
    withdraw,
)

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
QUEUED = SmsQueued(
    message_id="m-1", appointment_id="a-1", template="appointment-booked", template_id="t-1",
    reference="appointment:a-1:message:m-1", send_at=AT, queued_at=AT,
)  # fmt: skip


def given(*events: MessageEvent) -> Message:
    state = initial("message:m-1")
    for event in events:
        state = evolve(state, event)
    return state


def test_delivered_gives_sms_delivered_with_the_receipt_id() -> None:
    (event,) = decide_receipt(given(QUEUED), Receipt("r-1", "delivered", AT))
    assert isinstance(event, SmsDelivered)
    assert (event.message_id, event.receipt_id, event.delivered_at) == ("m-1", "r-1", AT)


def test_a_repeated_receipt_changes_nothing() -> None:
    first = decide_receipt(given(QUEUED), Receipt("r-1", "delivered", AT))
    assert decide_receipt(given(QUEUED, *first), Receipt("r-1", "delivered", AT)) == []


def test_a_permanent_failure_is_final_and_flags_the_appointment_for_a_call_back() -> None:
    failed, flag = decide_receipt(given(QUEUED), Receipt("r-1", "permanent-failure", AT))
    assert isinstance(failed, SmsFailed) and failed.permanent and failed.status == "permanent-failure"
    assert isinstance(flag, CallBackRequested)
    assert (flag.appointment_id, flag.reason) == ("a-1", "text-not-delivered")
    assert "07700" not in failed.reason


def test_a_temporary_failure_is_recorded_and_not_sent_again() -> None:
    (failed,) = decide_receipt(given(QUEUED), Receipt("r-1", "temporary-failure", AT))
    assert isinstance(failed, SmsFailed) and not failed.permanent and failed.status == "temporary-failure"
    assert not resend(given(QUEUED, failed), failed)


def test_a_technical_failure_is_sent_again_a_few_times_then_left() -> None:
    state = given(QUEUED)
    for n in range(RESENDS):
        (failed,) = decide_receipt(state, Receipt(f"r-{n}", "technical-failure", AT))
        state = evolve(state, failed)
        assert isinstance(failed, SmsFailed) and resend(state, failed)
    (last,) = decide_receipt(state, Receipt("r-last", "technical-failure", AT))
    assert isinstance(last, SmsFailed)
    assert not resend(evolve(state, last), last)


def test_a_receipt_for_a_text_never_queued_gives_nothing() -> None:
    assert decide_receipt(given(), Receipt("r-1", "delivered", AT)) == []


def test_notify_refusing_the_request_is_final_with_its_reason() -> None:
    failed, _ = rejected(given(QUEUED), "Can't send to this recipient using a team-only API key", AT)
    assert isinstance(failed, SmsFailed) and failed.permanent and failed.status == "rejected"
    assert rejected(given(QUEUED, failed), "again", AT) == []


def test_a_queued_text_not_gone_yet_is_withdrawn_once_and_a_sent_one_is_left() -> None:
    (withdrawn,) = withdraw(given(QUEUED), "appointment-cancelled", AT)
    assert isinstance(withdrawn, SmsWithdrawn) and withdrawn.appointment_id == "a-1"
    assert withdraw(given(QUEUED, withdrawn), "appointment-cancelled", AT) == []
    delivered = decide_receipt(given(QUEUED), Receipt("r-1", "delivered", AT))
    assert withdraw(given(QUEUED, *delivered), "appointment-moved", AT) == []


OFFICERS = SmsQueued(
    message_id="m-1", appointment_id="a-1", template="officer-change", template_id="t-2",
    reference="appointment:a-1:message:m-1", recipient="officer", send_at=AT, queued_at=AT,
)  # fmt: skip


def test_notify_refusing_a_text_to_the_public_flags_the_appointment_for_a_call_back_once() -> None:
    failed, flag = rejected(given(QUEUED), "phone_number Not a UK mobile number", AT)
    assert isinstance(failed, SmsFailed) and failed.reason == "phone_number Not a UK mobile number"
    assert isinstance(flag, CallBackRequested)
    assert (flag.appointment_id, flag.reason) == ("a-1", "text-not-delivered")
    # A text already flagged (a later attempt refused again) asks for no second call.
    again = given(QUEUED, flag)
    assert [type(e) for e in rejected(again, "refused", AT)] == [SmsFailed]


def test_an_officer_s_text_failing_never_flags_the_caller_s_appointment() -> None:
    (failed,) = decide_receipt(given(OFFICERS), Receipt("r-1", "permanent-failure", AT))
    assert isinstance(failed, SmsFailed) and failed.permanent
    (refused,) = rejected(given(OFFICERS), "phone_number Not a UK mobile number", AT)
    assert isinstance(refused, SmsFailed)
