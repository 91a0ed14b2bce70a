"""The roster pages against canned service answers: who may change it, what is sent to the roster,
and what the withdrawal page says booking did (read from the appointments' histories)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, get_args

import httpx
import pytest
from fastapi.testclient import TestClient

from schemas.roster import DutyEndReason, WithdrawalReason
from tests.unit.test_web import FakeServices, pages, sign_in
from tests.unit.test_web_booking import csrf
from web.pages.roster import end_reasons, withdrawal_reasons

A, B = "0b9f6b1e-aaaa-4c1e-9a57-3e8d4b1f0c21", "0b9f6b1e-bbbb-4c1e-9a57-3e8d4b1f0c21"
DUTY = {"officer_id": A, "duty_id": "d-1", "duty": "appointments", "station_id": "cheshunt",
        "district_id": "broxbourne", "starts_at": "2027-06-28T16:00:00Z", "ends_at": "2027-06-28T19:00:00Z",
        "planned_ends_at": "2027-06-28T19:00:00Z", "ended": False, "end_reason": None}  # fmt: skip
OFFICER_A = {"officer_id": A, "collar_number": "7101", "name": "Priya Shah", "station_id": "cheshunt",
             "district_id": "broxbourne", "duties": [DUTY], "withdrawals": []}  # fmt: skip
# Registered before the roster took names (OfficerRegistered version 1): no name recorded.
OFFICER_B = {**OFFICER_A, "officer_id": B, "collar_number": "7102", "name": None,
             "duties": [{**DUTY, "officer_id": B}]}  # fmt: skip
LINE = {"appointment_id": "apt-1", "starts_at": "2027-06-28T16:00:00Z", "ends_at": "2027-06-28T17:00:00Z",
        "room_id": "cheshunt-room-1", "officer_id": A, "status": "booked", "case_reference": "41/1/27",
        "thrive_risk": "low"}  # fmt: skip


@pytest.fixture
def services() -> FakeServices:
    fake = FakeServices()
    fake.answer("/officers", [OFFICER_A, OFFICER_B])
    fake.answer(f"/officers/{A}", OFFICER_A)
    fake.answer("/diaries/stations/cheshunt/2027-06-28", {"appointments": [LINE]})
    return fake


@pytest.fixture
def client(services: FakeServices) -> Iterator[TestClient]:
    with TestClient(pages(services)) as test_client:
        sign_in(test_client, "ps-2710")
        yield test_client


def recorder(services: FakeServices, path: str, status: int, answer: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(status, json=answer)

    services.answers[path] = handle
    return sent


def test_the_reasons_offered_are_the_rosters_own_codes() -> None:
    assert list(withdrawal_reasons()) == list(get_args(WithdrawalReason))
    assert list(end_reasons()) == list(get_args(DutyEndReason))


def test_the_day_shows_officers_by_collar_number_and_name_never_by_id(client: TestClient) -> None:
    page = client.get("/roster", params={"day": "2027-06-28", "district": "broxbourne"})

    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Officer 7101 Priya Shah</a>" in page.text
    assert "Officer 7102 (name not recorded)</a>" in page.text
    assert "5pm to 8pm, Monday 28 June 2027" in page.text and "Cheshunt police station" in page.text
    assert f">{A}<" not in page.text and f"Officer {A}" not in page.text


def test_an_officer_may_read_the_roster_but_not_change_it(services: FakeServices) -> None:
    with TestClient(pages(services)) as client:
        sign_in(client, "pc-4021")
        officer = client.get(f"/roster/officers/{A}")
        form = client.get(f"/roster/officers/{A}/withdraw")
        sent = client.post(f"/roster/officers/{A}/withdraw", data={"csrf": "x"})

    assert officer.status_code == 200 and "Withdraw from appointment duty" not in officer.text
    assert form.status_code == 403 and sent.status_code == 403
    assert "You cannot change the roster" in form.text


def test_a_withdrawal_is_sent_in_utc_and_the_page_says_booking_reassigned_the_appointment(
    client: TestClient, services: FakeServices
) -> None:
    sent = recorder(services, f"/officers/{A}/withdrawals", 201, {"withdrawal_id": "w"})
    form = client.get(f"/roster/officers/{A}/withdraw")
    request_id = form.text.split('name="request_id" value="')[1].split('"')[0]
    services.answer(
        "/appointments/apt-1/history",
        [{"event_id": "e1", "event_type": "AppointmentReassigned", "occurred_at": "2027-06-27T10:00:00Z",
          "actor": None, "data": {"from_officer_id": A, "to_officer_id": B, "withdrawal_id": request_id}}],
    )  # fmt: skip

    done = client.post(
        f"/roster/officers/{A}/withdraw",
        data={"csrf": csrf(form.text), "request_id": request_id, "on-day": "28", "on-month": "June",
              "on-year": "2027", "starts": "17:00", "ends": "18:00", "reason": "court"},
    )  # fmt: skip

    utc = {"starts_at": "2027-06-28T16:00:00+00:00", "ends_at": "2027-06-28T17:00:00+00:00"}
    assert sent == [{"withdrawal_id": request_id, "reason": "court", **utc}]
    assert done.status_code == 200, done.text
    assert "Officer 7101 Priya Shah withdrawn" in done.text
    assert "Given to officer 7102 (name not recorded) at the same time." in done.text
    assert "41/1/27" in done.text


def test_a_withdrawal_without_its_csrf_token_or_a_reason_is_refused_before_the_roster_hears_of_it(
    client: TestClient, services: FakeServices
) -> None:
    sent = recorder(services, f"/officers/{A}/withdrawals", 201, {})
    form = client.get(f"/roster/officers/{A}/withdraw")

    forged = client.post(f"/roster/officers/{A}/withdraw", data={"csrf": "made-up", "reason": "court"})
    unexplained = client.post(
        f"/roster/officers/{A}/withdraw",
        data={"csrf": csrf(form.text), "on-day": "28", "on-month": "6", "on-year": "2027", "starts": "17:00",
              "ends": "25:00"},
    )  # fmt: skip

    assert forged.status_code == 403
    assert unexplained.status_code == 422
    assert "Select the reason" in unexplained.text and 'href="#ends"' in unexplained.text
    assert sent == []


def test_a_duty_clash_comes_back_on_the_assign_form_in_the_rosters_words(
    client: TestClient, services: FakeServices
) -> None:
    clash = {"detail": "officer 7101 already holds duty d-1 (appointment duty at cheshunt)",
             "errors": [{"field": "starts_at", "reason": "clashes with duty d-1"}]}  # fmt: skip
    sent = recorder(services, f"/officers/{A}/duties", 409, clash)
    form = client.get(f"/roster/officers/{A}/duties")

    page = client.post(
        f"/roster/officers/{A}/duties",
        data={"csrf": csrf(form.text), "duty": "emergency-response", "place": "district|broxbourne",
              "on-day": "28", "on-month": "6", "on-year": "2027", "starts": "18:00", "ends": "02:00"},
    )  # fmt: skip

    assert page.status_code == 409
    assert "Officer 7101 already holds duty d-1" in page.text
    [body] = sent
    assert body["district_id"] == "broxbourne" and "station_id" not in body
    # An end at or before the start is the next morning.
    assert (body["starts_at"], body["ends_at"]) == ("2027-06-28T17:00:00+00:00", "2027-06-29T01:00:00+00:00")


def test_the_diary_says_who_is_on_duty_net_of_withdrawals_and_what_is_still_free(
    client: TestClient, services: FakeServices
) -> None:
    later = {"starts_at": "2027-06-28T17:00:00Z", "ends_at": "2027-06-28T19:00:00Z"}
    services.answer(
        "/duties",
        {"on_duty": [{"officer_id": A, "collar_number": "7101", "name": "Priya Shah", "duty": DUTY,
                      "available": [{"starts_at": "2027-06-28T16:00:00Z", "ends_at": "2027-06-28T17:00:00Z"}],
                      "withdrawals": [{"officer_id": A, "withdrawal_id": "w", "reason": "court", **later}]}]},
    )  # fmt: skip
    services.answer(
        "/stations/cheshunt/free-slots",
        [
            {
                "starts_at": "2027-06-28T18:00:00Z",
                "ends_at": "2027-06-28T19:00:00Z",
                "room_id": "cheshunt-room-1",
            }
        ],
    )

    page = client.get("/stations/cheshunt/diary", params={"day": "2027-06-28"})

    assert page.status_code == 200
    on_duty = page.text.split('id="on-duty"')[1].split("</section>")[0]
    assert "Officer 7101 Priya Shah</a>, 5pm to 8pm" in on_duty
    assert "Withdrawn 6pm to 8pm: court. Available 5pm to 6pm." in on_duty
    free = page.text.split('id="free-now"')[1].split("</section>")[0]
    assert "7pm to 8pm" in free
    # The diary's row names the officer by collar number and name, from the roster's GET /officers.
    assert "Officer: </span>7101 Priya Shah" in page.text
    duties = next(c for c in services.calls if c.url.path == "/duties")
    assert dict(duties.url.params) == {"place": "station", "place_id": "cheshunt", "day": "2027-06-28"}


def test_an_early_end_shows_the_appointment_moved_to_a_later_day_when_it_was_displaced_first(
    client: TestClient, services: FakeServices
) -> None:
    sent = recorder(services, f"/officers/{A}/duties/d-1/end", 200, {"duty_id": "d-1"})
    cause = {"withdrawal_id": "duty-ended:d-1"}
    services.answer(
        "/appointments/apt-1/history",
        [{"event_id": "e1", "event_type": "AppointmentDisplaced", "occurred_at": "2027-06-27T10:00:00Z",
          "data": {"officer_id": A, **cause}},
         {"event_id": "e2", "event_type": "AppointmentRescheduled", "occurred_at": "2027-06-27T10:00:00Z",
          "data": {"starts_at": "2027-06-29T16:00:00Z", "ends_at": "2027-06-29T17:00:00Z",
                   "caller_to_be_told": True, **cause}}],
    )  # fmt: skip
    form = client.get(f"/roster/officers/{A}/duties/d-1/end")
    assert "Appointments, Cheshunt police station, 5pm to 8pm, Monday 28 June 2027" in form.text

    done = client.post(
        f"/roster/officers/{A}/duties/d-1/end",
        data={"csrf": csrf(form.text), "ends": "17:00", "reason": "sickness"},
    )

    assert sent == [{"reason": "sickness", "ends_at": "2027-06-28T16:00:00+00:00"}]
    assert done.status_code == 200, done.text
    assert "Moved to 5pm to 6pm, Tuesday 29 June 2027: nobody was free at the booked time." in done.text
    assert "The caller is to be told." in done.text and "Needs a new time" not in done.text


def test_a_supervisor_registers_an_officer_by_collar_number_name_and_home_station(
    client: TestClient, services: FakeServices
) -> None:
    sent = recorder(services, "/officers", 201, OFFICER_A)
    form = client.get("/roster/officers/new")
    token = csrf(form.text)

    wrong = client.post(
        "/roster/officers/new",
        data={"csrf": token, "collar_number": "PC 41 27", "name": "   ", "station_id": ""},
    )
    too_long = client.post(
        "/roster/officers/new",
        data={"csrf": token, "collar_number": "7101", "name": "P" * 101, "station_id": "cheshunt"},
    )
    done = client.post(
        "/roster/officers/new",
        data={"csrf": token, "collar_number": "7101", "name": " Priya  Shah ", "station_id": "cheshunt"},
    )

    assert (
        wrong.status_code == 422
        and 'href="#collar_number"' in wrong.text
        and 'href="#name"' in wrong.text
        and "Enter the officer&#39;s name" in wrong.text
        and 'href="#station_id"' in wrong.text
    )
    assert too_long.status_code == 422 and "100 characters or fewer" in too_long.text
    assert sent == [{"collar_number": "7101", "name": "Priya Shah", "station_id": "cheshunt"}]
    assert done.status_code == 200 and "Registered." in done.text
    assert "Officer 7101 Priya Shah" in done.text
