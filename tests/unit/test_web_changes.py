"""Moving and cancelling an appointment from its page, against canned service answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, get_args

import httpx
import pytest
from fastapi.testclient import TestClient

from schemas.booking import CancelReason, RescheduleReason
from tests.unit.test_web import FakeServices, pages, sign_in
from tests.unit.test_web_booking import FREE, csrf
from web.pages.change import cancel_reasons, reschedule_reasons

SLOT = "station|stevenage|2027-06-16|17:00"


@pytest.fixture
def services() -> FakeServices:
    fake = FakeServices()
    fake.answer("/stations/stevenage/free-slots", FREE)
    return fake


@pytest.fixture
def client(services: FakeServices) -> Iterator[TestClient]:
    with TestClient(pages(services)) as test_client:
        sign_in(test_client, "ps-2710")
        yield test_client


def recorder(services: FakeServices, path: str, status: int, answer: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(status, json=answer)

    services.answers[path] = handle
    return sent


def test_every_reason_code_booking_takes_from_staff_is_offered_in_words() -> None:
    assert set(cancel_reasons()) == set(get_args(CancelReason)) - {"cancelled-by-text"}
    assert set(reschedule_reasons()) == set(get_args(RescheduleReason))
    assert all(words[0].isupper() and "-" not in words for words in cancel_reasons().values())


def test_cancelling_sends_the_code_and_the_note_and_reads_back_what_to_say(
    client: TestClient, services: FakeServices
) -> None:
    sent = recorder(services, "/appointments/apt-9/cancel", 200, {"appointment_id": "apt-9", "events": ["x"]})
    form = client.get("/appointments/apt-9/cancel", params={"slot": SLOT})
    assert form.status_code == 200 and 'value="no-longer-needed"' in form.text
    assert 'value="cancelled-by-text"' not in form.text

    done = client.post(
        "/appointments/apt-9/cancel",
        data={
            "csrf": csrf(form.text),
            "slot": SLOT,
            "initiated_by": "public",
            "reason": "duplicate",
            "note": "",
        },
    )

    assert done.status_code == 200
    assert "Your appointment on Wednesday 16 June 2027 has been cancelled." in done.text
    assert sent == [{"initiated_by": "public", "reason": "duplicate", "note": None}]


def test_another_reason_needs_a_note_and_nothing_is_sent_without_one(
    client: TestClient, services: FakeServices
) -> None:
    form = client.get("/appointments/apt-9/cancel")
    page = client.post("/appointments/apt-9/cancel", data={"csrf": csrf(form.text), "reason": "other"})

    assert page.status_code == 422
    assert 'href="#initiated_by"' in page.text and 'href="#note"' in page.text
    assert not [c for c in services.calls if c.method == "POST"]


def test_a_move_to_a_slot_taken_first_offers_the_nearest_at_once(
    client: TestClient, services: FakeServices
) -> None:
    nearest = FREE[2] | {"day": "", "when": ""}
    recorder(services, "/appointments/apt-9/reschedule", 409, {"detail": "taken", "alternatives": [nearest]})
    form = client.get("/appointments/apt-9/reschedule", params={"slot": SLOT})
    assert form.status_code == 200 and "Now: Wednesday 16 June 2027 at 5pm" in form.text

    page = client.post(
        "/appointments/apt-9/reschedule",
        data={"csrf": csrf(form.text), "current": SLOT, "slot": "station|stevenage|2027-06-16|18:00",
              "initiated_by": "public", "reason": "caller-asked"},
    )  # fmt: skip

    assert page.status_code == 409
    assert "was taken a moment ago: choose one of the nearest" in page.text
    assert 'value="station|stevenage|2027-06-16|19:00" checked' in page.text
    assert 'value="caller-asked" checked' in page.text


def test_a_booker_whose_role_cannot_read_the_history_may_still_move_or_cancel(services: FakeServices) -> None:
    services.answer("/appointments/apt-9/history", {"status": 403, "detail": "not your role"}, status=403)
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        page = client.get("/appointments/apt-9", params={"slot": SLOT})
    assert page.status_code == 200
    assert "Your role cannot read an appointment's history" in page.text
    assert 'href="/appointments/apt-9/cancel?slot=' in page.text
    assert 'href="/appointments/apt-9/reschedule?slot=' in page.text
