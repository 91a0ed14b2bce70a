"""The waiting list from the booking pages, against canned service answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.unit.test_web import FakeServices, pages, sign_in
from tests.unit.test_web_booking import DETAILS, FREE, csrf

WANTED = "station|stevenage|2026-12-03|2026-12-09"  # the pages' today is 2 December 2026
ENTRY = {"appointment_id": "wait-1", "waitlist": "waitlist:station:stevenage", "status": "waiting"}


@pytest.fixture
def services() -> FakeServices:
    fake = FakeServices()
    fake.answer("/stations/stevenage/free-slots", FREE)
    fake.answer("/waitlist/wait-1", ENTRY)
    return fake


@pytest.fixture
def client(services: FakeServices) -> Iterator[TestClient]:
    with TestClient(pages(services)) as test_client:
        sign_in(test_client, "ps-2710")
        yield test_client


def days(first: tuple[int, int, int], last: tuple[int, int, int]) -> dict[str, str]:
    return {f"{box}-{part}": str(n) for box, d in (("from", first), ("to", last))
            for part, n in zip(("day", "month", "year"), d, strict=True)}  # fmt: skip


def test_the_slot_page_links_to_the_waiting_list_of_the_same_station(client: TestClient) -> None:
    page = client.get("/book/stations/stevenage")
    assert 'href="/book/waitlist/stations/stevenage"' in page.text
    district = client.get("/book/districts/stevenage")
    assert "/book/waitlist/" not in district.text  # a waiting list is a station's or a diary car's


def test_urgent_is_stopped_and_a_range_longer_than_booking_keeps_is_refused_before_anything_is_typed(
    client: TestClient,
) -> None:
    token = csrf(client.get("/book/waitlist/stations/stevenage").text)
    base = {"csrf": token, "place": "station", "place_id": "stevenage"}

    urgent = client.post(
        "/book/waitlist", data=base | {"grade": "urgent"} | days((3, 12, 2026), (4, 12, 2026))
    )
    too_long = client.post(
        "/book/waitlist", data=base | {"grade": "scheduled"} | days((3, 12, 2026), (31, 12, 2026))
    )
    past = client.post(
        "/book/waitlist", data=base | {"grade": "scheduled"} | days((1, 12, 2026), (4, 12, 2026))
    )

    assert urgent.status_code == 422 and "it goes to emergency response" in urgent.text
    assert (
        too_long.status_code == 422
        and "at most 28 days" in too_long.text
        and 'href="#to-day"' in too_long.text
    )
    assert past.status_code == 422 and "The first day must be today or later" in past.text


def test_joining_sends_the_days_and_the_briefing_and_shows_the_entry_waiting(
    client: TestClient, services: FakeServices
) -> None:
    sent: list[dict[str, Any]] = []

    def joined(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={"appointment_id": "wait-1", "place": "station"})

    services.answers["/waitlist"] = joined
    token = csrf(client.get("/book/waitlist/stations/stevenage").text)
    details = client.post(
        "/book/waitlist",
        data={"csrf": token, "place": "station", "place_id": "stevenage", "grade": "scheduled"}
        | days((3, 12, 2026), (9, 12, 2026)),
    )
    assert details.status_code == 200 and f'value="{WANTED}"' in details.text
    check = client.post(
        "/book/waitlist/check", data={"csrf": token, "grade": "scheduled", "slot": WANTED, **DETAILS}
    )
    assert check.status_code == 200 and "Check the waiting list entry with the caller" in check.text
    request_id = re.search(r'name="request_id" value="([^"]+)"', check.text)
    assert request_id

    done = client.post(
        "/book/waitlist/join",
        data={"csrf": token, "grade": "scheduled", "slot": WANTED, "action": "book", **DETAILS}
        | {"request_id": request_id.group(1)},
    )

    assert done.status_code == 200, done.text
    assert "On the waiting list" in done.text and 'id="state">Waiting<' in done.text
    (body,) = sent
    assert (body["place"], body["place_id"], body["from_day"], body["to_day"]) == (
        "station", "stevenage", "2026-12-03", "2026-12-09"
    )  # fmt: skip
    assert body["request_id"] == request_id.group(1) and body["incident_grade"] == "scheduled"
    assert body["briefing"]["case_reference"] == "41/1/27" and body["caller"]["name"]
    assert "day" not in body and "start" not in body


def test_an_offered_slot_shows_until_when_and_the_callers_answer_goes_to_booking(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/waitlist/wait-1", ENTRY | {"status": "offered", "day": "Thursday 3 December 2026",
                                                 "when": "5pm to 6pm", "expires": "7pm"})  # fmt: skip
    accepted: list[str] = []

    def accept(request: httpx.Request) -> httpx.Response:
        accepted.append(request.url.path)
        return httpx.Response(200, json={})

    services.answers["/offers/wait-1/accept"] = accept
    page = client.get("/waitlist/wait-1")
    assert "5pm to 6pm, Thursday 3 December 2026, held until 7pm" in page.text

    forged = client.post("/waitlist/wait-1", data={"csrf": "made-up", "answer": "accept"})
    taken = client.post("/waitlist/wait-1", data={"csrf": csrf(page.text), "answer": "accept"})

    assert forged.status_code == 403
    assert taken.status_code == 200 and "Booked: the caller took the slot." in taken.text
    assert accepted == ["/offers/wait-1/accept"]
