"""Recording what happened at an appointment, against canned service answers."""

from __future__ import annotations

import json
from typing import Any, get_args

import httpx
from fastapi.testclient import TestClient

from schemas.booking import MissedReason, Outcome
from tests.unit.test_web import FakeServices, pages, sign_in
from tests.unit.test_web_booking import csrf
from web.pages.attendance import missed_reasons, outcomes

SLOT = "station|stevenage|2026-12-02|17:00"


def refused_history(services: FakeServices) -> None:
    services.answers["/appointments/apt-1/history"] = lambda _: httpx.Response(
        403, json={"detail": "role officer may not do this"}
    )


def recorder(services: FakeServices, path: str, status: int, answer: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(status, json=answer)

    services.answers[path] = handle
    return sent


def test_the_choices_are_bookings_own_codes() -> None:
    assert list(outcomes()) == list(get_args(Outcome))
    assert list(missed_reasons()) == list(get_args(MissedReason))


def test_an_officer_from_the_diary_records_the_outcome_and_booking_hears_its_code() -> None:
    services = FakeServices()
    refused_history(services)
    sent = recorder(
        services, "/appointments/apt-1/attendance", 200, {"appointment_id": "apt-1", "events": []}
    )
    with TestClient(pages(services)) as client:
        sign_in(client, "pc-4021")
        page = client.get("/appointments/apt-1", params={"slot": SLOT})
        without_slot = client.get("/appointments/apt-1")
        form = client.get("/appointments/apt-1/attendance", params={"slot": SLOT})
        done = client.post(
            "/appointments/apt-1/attendance",
            data={"csrf": csrf(form.text), "slot": SLOT, "what": "attended", "outcome": "crime-recorded"},
        )

    assert page.status_code == 200 and "Record what happened" in page.text and "Move it" not in page.text
    assert without_slot.status_code == 403  # opened by id alone: what the services refuse, refused
    assert done.status_code == 200 and "Attended: a crime was recorded." in done.text
    assert sent == [{"outcome": "crime-recorded"}]


def test_a_missed_appointment_needs_its_reason_and_goes_to_bookings_no_show() -> None:
    services = FakeServices()
    sent = recorder(services, "/appointments/apt-1/no-show", 200, {"appointment_id": "apt-1", "events": []})
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        form = client.get("/appointments/apt-1/attendance", params={"slot": SLOT})
        token = csrf(form.text)
        unexplained = client.post(
            "/appointments/apt-1/attendance", data={"csrf": token, "slot": SLOT, "what": "missed-by-public"}
        )
        other = client.post(
            "/appointments/apt-1/attendance",
            data={"csrf": token, "slot": SLOT, "what": "missed-by-public", "reason": "other"},
        )
        done = client.post(
            "/appointments/apt-1/attendance",
            data={"csrf": token, "slot": SLOT, "what": "missed-by-public", "reason": "did-not-attend"},
        )

    assert unexplained.status_code == 422 and "Select why it was missed" in unexplained.text
    assert other.status_code == 422 and "Say why in the note" in other.text
    assert done.status_code == 200 and "Missed: the caller did not come." in done.text
    assert sent == [{"missed_by": "public", "reason": "did-not-attend", "note": None}]


def test_bookings_refusal_comes_back_on_the_form_and_a_forged_form_is_refused() -> None:
    services = FakeServices()
    recorder(services, "/appointments/apt-1/attendance", 409,
             {"detail": "record what happened once it has begun"})  # fmt: skip
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        form = client.get("/appointments/apt-1/attendance", params={"slot": SLOT})
        early = client.post(
            "/appointments/apt-1/attendance",
            data={"csrf": csrf(form.text), "slot": SLOT, "what": "attended", "outcome": "referred"},
        )
        forged = client.post("/appointments/apt-1/attendance", data={"csrf": "x", "what": "attended"})

    assert early.status_code == 409 and "Record what happened once it has begun." in early.text
    assert 'value="referred" checked' in early.text
    assert forged.status_code == 403
