"""Booking from the pages against canned service answers: the three steps, and each way they stop."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.unit.test_web import FakeServices, pages, sign_in

SLOT = "station|stevenage|2027-06-16|17:00"
FREE = [
    {"place": "station", "place_id": "stevenage", "starts_at": f"2027-06-16T{h}:00:00Z",
     "ends_at": f"2027-06-16T{h + 1}:00:00Z", "room_id": "stevenage-room-1", "day": "", "when": ""}
    for h in (16, 17, 18)
]  # fmt: skip
DETAILS = {
    "caller_name": "Alex Example",
    "caller_phone": "07700 900123",
    "case_reference": "41/1/27",
    "summary": "Bicycle stolen",
    "thrive_risk": "low",
    "safe_to_text": "yes",
    "safe_to_call": "yes",
    "language": "pl",
    "interpreter_needed": "yes",
}


@pytest.fixture
def services() -> FakeServices:
    fake = FakeServices()
    fake.answer("/stations/stevenage/free-slots", FREE)
    return fake


@pytest.fixture
def client(services: FakeServices) -> Iterator[TestClient]:
    with TestClient(pages(services)) as test_client:
        sign_in(test_client, "ps-2710")  # a supervisor may book
        yield test_client


def csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_step_one_asks_the_grade_first_then_offers_the_free_slots_in_london_time(client: TestClient) -> None:
    page = client.get("/book/stations/stevenage?from-day=16&from-month=June&from-year=2027")

    assert page.status_code == 200
    assert page.text.index("What is the incident&#39;s grade?") < page.text.index('name="slot"')
    assert f'value="{SLOT}"' in page.text  # 16:00Z is 5pm in London in June
    assert "5pm to 6pm, Wednesday 16 June 2027" in page.text


def test_a_date_that_is_not_real_is_an_error_on_its_box(client: TestClient, services: FakeServices) -> None:
    page = client.get("/book/stations/stevenage?from-day=31&from-month=2&from-year=2027")

    assert page.status_code == 422
    assert "The first day must be a real date" in page.text
    assert 'href="#from-day"' in page.text


@pytest.mark.parametrize("grade", ["urgent", "priority"])
def test_an_urgent_or_priority_grade_is_stopped_before_the_callers_details(
    client: TestClient, grade: str
) -> None:
    token = csrf(client.get("/book/stations/stevenage").text)

    page = client.post(
        "/book/slot", data={"csrf": token, "grade": grade, "slot": SLOT, "back": "/book/stations/stevenage"}
    )

    assert page.status_code == 422
    assert "it goes to emergency response" in page.text
    assert f"{'An' if grade == 'urgent' else 'A'} {grade} incident is never given an appointment" in page.text
    assert 'name="caller_name"' not in page.text


def test_a_form_without_the_sessions_csrf_token_is_refused(client: TestClient) -> None:
    page = client.post("/book/slot", data={"csrf": "forged", "grade": "scheduled", "slot": SLOT})
    assert page.status_code == 403


def test_missing_details_are_listed_in_an_error_summary_linked_to_each_field(client: TestClient) -> None:
    token = csrf(client.get("/book/stations/stevenage").text)
    chosen = client.post(
        "/book/slot",
        data={"csrf": token, "grade": "scheduled", "slot": SLOT, "back": "/book/stations/stevenage"},
    )
    assert chosen.status_code == 200 and 'name="caller_name"' in chosen.text

    page = client.post(
        "/book/check", data={"csrf": token, "grade": "scheduled", "slot": SLOT, "caller_name": "Alex"}
    )

    assert page.status_code == 422
    assert 'class="govuk-error-summary"' in page.text
    for field in ("case_reference", "summary", "thrive_risk", "safe_to_text", "safe_to_call"):
        assert f'href="#{field}"' in page.text
    assert 'value="Alex"' in page.text  # what was typed is kept


def test_booking_sends_the_briefing_and_reads_back_the_words_to_say(
    client: TestClient, services: FakeServices
) -> None:
    sent: list[dict[str, Any]] = []

    def booked(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        answer = {"appointment_id": "apt-9", "place": "station", "place_id": "stevenage"}
        return httpx.Response(201, json=answer | {"day": "Wednesday 16 June 2027", "when": "5pm to 6pm"})

    services.answers["/stations/stevenage/appointments"] = booked
    token = csrf(client.get("/book/stations/stevenage").text)
    check = client.post("/book/check", data={"csrf": token, "grade": "scheduled", "slot": SLOT, **DETAILS})
    assert check.status_code == 200 and "Check the booking with the caller" in check.text
    request_id = re.search(r'name="request_id" value="([^"]+)"', check.text)
    assert request_id

    done = client.post(
        "/book/confirm",
        data={"csrf": token, "grade": "scheduled", "slot": SLOT, "action": "book", **DETAILS}
        | {"request_id": request_id.group(1)},
    )

    assert done.status_code == 200
    assert (
        "Your appointment is on Wednesday 16 June 2027, from 5pm to 6pm, at Stevenage police station."
        in done.text
    )
    assert "An interpreter for Polish will be there." in done.text
    assert "Case reference<br><strong>41/1/27</strong>" in done.text
    assert 'href="/stations/stevenage/diary?day=2027-06-16"' in done.text
    (body,) = sent
    assert body["day"] == "2027-06-16" and body["start"] == "17:00" and body["incident_grade"] == "scheduled"
    assert body["request_id"] == request_id.group(1)
    assert body["briefing"] | {"summary": "-"} == {
        "case_reference": "41/1/27", "summary": "-", "vulnerability": None, "access_needs": None,
        "thrive_risk": "low", "safe_to_text": True, "safe_to_call": True, "preferred_contact": "sms",
        "language": "pl", "interpreter_needed": True,
    }  # fmt: skip
    assert body["caller"] == {"name": "Alex Example", "phone": "07700 900123"}


def test_a_lost_race_shows_the_nearest_free_slots_at_once_with_the_details_kept(
    client: TestClient, services: FakeServices
) -> None:
    services.answer(
        "/stations/stevenage/appointments",
        {"status": 409, "detail": "the slot was taken", "errors": [{"field": "start", "reason": "taken"}],
         "alternatives": [FREE[2] | {"day": "Wednesday 16 June 2027", "when": "7pm to 8pm"}]},
        status=409,
    )  # fmt: skip
    token = csrf(client.get("/book/stations/stevenage").text)

    page = client.post(
        "/book/confirm", data={"csrf": token, "grade": "scheduled", "slot": SLOT, "action": "book", **DETAILS}
    )

    assert page.status_code == 409
    assert "That slot has just been taken" in page.text
    assert 'value="station|stevenage|2027-06-16|19:00"' in page.text
    assert 'name="caller_name" value="Alex Example"' in page.text
    assert 'href="/book/waitlist/stations/stevenage"' in page.text  # or the waiting list, if nothing suits


def test_a_field_booking_refuses_is_shown_on_the_details_form(
    client: TestClient, services: FakeServices
) -> None:
    services.answer(
        "/stations/stevenage/appointments",
        {
            "status": 422,
            "detail": "invalid",
            "errors": [{"field": "caller.phone", "reason": "not a UK phone number"}],
        },
        status=422,
    )
    token = csrf(client.get("/book/stations/stevenage").text)

    page = client.post(
        "/book/confirm", data={"csrf": token, "grade": "scheduled", "slot": SLOT, "action": "book", **DETAILS}
    )

    assert page.status_code == 422
    assert 'href="#caller_phone"' in page.text and "Not a UK phone number" in page.text


def test_a_home_visit_needs_the_address_and_sends_it_with_the_booking(
    client: TestClient, services: FakeServices
) -> None:
    visit = "diary-car|dacorum|2027-06-16|10:00"
    sent: list[dict[str, Any]] = []

    def booked(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        answer = {"appointment_id": "apt-7", "place": "diary-car", "place_id": "dacorum"}
        return httpx.Response(201, json=answer | {"day": "Wednesday 16 June 2027", "when": "10am to midday"})

    services.answers["/diary-cars/dacorum/visits"] = booked
    token = csrf(client.get("/book/stations/stevenage").text)
    missing = client.post("/book/check", data={"csrf": token, "grade": "scheduled", "slot": visit, **DETAILS})
    assert missing.status_code == 422
    for field in ("address_line1", "address_town", "address_postcode"):
        assert f'href="#{field}"' in missing.text
    address = {
        "address_line1": "1 High Street",
        "address_town": "Hemel Hempstead",
        "address_postcode": "hp1 1aa",
    }

    done = client.post(
        "/book/confirm",
        data={"csrf": token, "grade": "scheduled", "slot": visit, "action": "book", **DETAILS, **address},
    )

    assert done.status_code == 200
    assert (
        "An officer will visit you at home on Wednesday 16 June 2027, some time from 10am to midday."
        in done.text
    )
    assert "They will come to 1 High Street, HP1 1AA." in done.text
    (body,) = sent
    assert body["caller"]["address"] == {
        "line1": "1 High Street", "line2": None, "town": "Hemel Hempstead", "postcode": "HP1 1AA"
    }  # fmt: skip
