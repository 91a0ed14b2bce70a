"""Reading the public's replies: forgiving of case, spaces and punctuation; which appointment they mean."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from services.notifications.domain.appointment import Appointment, evolve
from services.notifications.domain.length import MAX_LENGTH, notify_length
from services.notifications.domain.replies import Reading, match, read, which_text
from tests.unit.notifications.builders import RULES, london, slot_booked


@pytest.mark.parametrize("text", ["YES", "yes", " Yes! ", "y", "Yes.", "confirm", "OK"])
def test_yes_in_any_shape_confirms(text: str) -> None:
    assert read(text) == Reading("confirm")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("CANCEL", Reading("cancel")),
        ("cancel please", Reading("unknown")),
        ("Cancel k7q2.", Reading("cancel", code="K7Q2")),
        ("move", Reading("move")),
        ("Change", Reading("move")),
        ("STOP", Reading("stop")),
        ("stop!", Reading("stop")),
        ("4", Reading("satisfaction", score=4)),
        ("4/5", Reading("satisfaction", score=4)),
        ("5 out of 5", Reading("satisfaction", score=5)),
        ("6", Reading("unknown")),
        ("0", Reading("unknown")),
        ("Can I bring my son?", Reading("unknown")),
        ("", Reading("unknown")),
    ],
)
def test_replies_are_read_forgivingly(text: str, reading: Reading) -> None:
    assert read(text) == reading


def appointment(n: int, at: time) -> Appointment:
    state = evolve(None, slot_booked(london(date(2026, 12, 2), at), london(date(2026, 12, 1), time(9, 0))))
    assert state is not None
    return replace(state, appointment_id=f"a-{n}")


def test_one_appointment_ahead_is_the_one_meant() -> None:
    only = appointment(1, time(17, 0))
    assert match(Reading("confirm"), [only]).appointment == only


def test_two_appointments_ahead_are_asked_about_unless_a_code_names_one() -> None:
    first, second = appointment(1, time(17, 0)), appointment(2, time(18, 0))
    asked = match(Reading("cancel"), [first, second])
    assert asked.appointment is None and asked.ask
    assert match(Reading("cancel", code=second.code), [first, second]).appointment == second
    assert match(Reading("cancel", code="ZZZZ"), [first, second]).ask


def test_no_appointment_ahead_matches_nothing_and_asks_nothing() -> None:
    assert match(Reading("confirm"), []) == match(Reading("confirm"), [])
    assert not match(Reading("confirm"), []).ask


def test_the_which_text_lists_each_appointment_by_its_code_within_notify_s_length() -> None:
    first, second = appointment(1, time(17, 0)), appointment(2, time(18, 0))
    text = which_text([first, second], london(date(2026, 12, 1), time(12, 0)), RULES)
    body = text.body()
    assert f"{first.code}: 5pm on Wednesday 2 December 2026" in body
    assert f"{second.code}: 6pm on Wednesday 2 December 2026" in body
    assert notify_length(body) <= MAX_LENGTH
