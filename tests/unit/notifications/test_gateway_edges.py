"""The gateway's edges, no servers: numbers from Notify, calendar keys, Notify's errors, the local key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException
from notifications_python_client.errors import HTTP503Error, HTTPError

from services.notifications.adapters.calendar_links import calendar_links, opens
from services.notifications.adapters.http import e164
from services.notifications.adapters.keys import number_hash
from services.notifications.domain.templates import LINK_MAX
from services.notifications.gateway.local import local_api_key
from services.notifications.gateway.notify import reason_of, retryable


class _Answer:
    def __init__(self, status: int, body: object) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> object:
        return self._body


@pytest.mark.parametrize("raw", ["447700900123", "+447700900123", "07700 900123", "(07700) 900-123"])
def test_a_sender_s_number_in_any_of_notify_s_shapes_is_one_e164(raw: str) -> None:
    assert e164(raw) == "+447700900123"


@pytest.mark.parametrize("raw", ["07700 9OO123", "12", "call me"])
def test_a_sender_that_is_not_a_number_is_a_422_naming_the_field_not_the_value(raw: str) -> None:
    with pytest.raises(HTTPException) as refused:
        e164(raw)
    assert refused.value.status_code == 422
    assert raw not in str(refused.value.detail)


def test_the_number_hash_is_keyed_and_stable_and_never_the_number() -> None:
    one = number_hash("+447700900123", "secret-a")
    assert one == number_hash("+447700900123", "secret-a")
    assert one != number_hash("+447700900123", "secret-b")
    assert "7700900123" not in one


def test_a_calendar_link_opens_with_its_own_key_only_and_fits_its_placeholder() -> None:
    link = calendar_links("https://appointments.hertfordshire.police.uk", "s")("a" * 36)
    assert len(link) <= LINK_MAX
    key = link.rpartition("k=")[2]
    assert opens("a" * 36, key, "s")
    assert not opens("b" * 36, key, "s") and not opens("a" * 36, key, "other")


def test_notify_s_reason_keeps_its_words_and_masks_a_number() -> None:
    body = {"errors": [{"error": "ValidationError", "message": "phone_number +44 7700 900123 is bad"}]}
    answer: Any = _Answer(400, body)
    error = HTTPError(answer)
    assert reason_of(error) == "phone_number [number] is bad"


@pytest.mark.parametrize(
    ("status", "again"), [(500, True), (502, True), (429, True), (400, False), (403, False)]
)
def test_which_of_notify_s_answers_are_tried_again(status: int, again: bool) -> None:
    answer: Any = _Answer(status, {})
    assert retryable(HTTPError(answer)) is again
    assert retryable(HTTP503Error(None))


def test_the_local_key_has_notify_s_shape_and_stays_the_same_in_one_state_folder(tmp_path: Path) -> None:
    key = local_api_key(tmp_path)
    assert key == local_api_key(tmp_path)
    assert len(key[-73:-37]) == 36 and len(key[-36:]) == 36 and key[-37] == "-"
    assert (tmp_path / "notify-simulator-key").stat().st_mode & 0o077 == 0


def test_a_calendar_key_that_is_not_ascii_is_refused_not_an_error() -> None:
    assert not opens("a" * 36, "\U000f5429¤\x03ë", "s")
