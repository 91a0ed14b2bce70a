"""An officer's day with its briefings, against canned service answers: found by the collar number the
officer signs in with, refused as the projections refuse it, an erased caller shown as erased."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.unit.test_web import FakeServices, pages, sign_in
from tests.unit.test_web_booking import csrf

OFFICER_ID = "9c1d7f3e-officer"
DAY_PATH = f"/officers/{OFFICER_ID}/days/2026-12-02"


def appointment(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "appointment_id": "apt-1", "place": "station", "place_id": "stevenage", "district_id": "stevenage",
        "diary_car_id": None, "room_id": "stevenage-room-1", "starts_at": "2026-12-02T17:00:00Z",
        "ends_at": "2026-12-02T18:00:00Z", "local_start": "2026-12-02T17:00:00+00:00", "when": "5pm to 6pm",
        "status": "booked",
        "caller": {"subject_id": "subject-" + "a" * 24, "erased": False, "name": "Alex Example",
                   "phone": "+447700900123", "address": None},
        "briefing": {"case_reference": "41/1234/26", "summary": "Bicycle stolen from a shed",
                     "background": "Second theft this month", "vulnerability": "Lives alone",
                     "access_needs": "Step-free room", "vulnerability_flags": ["elderly"],
                     "thrive_risk": "high",
                     "preferred_contact": "phone", "language": "pl", "interpreter_needed": True,
                     "safe_to_text": False, "safe_to_call": True},
    }  # fmt: skip
    return base | changes


def day(*appointments: dict[str, Any]) -> dict[str, Any]:
    return {"officer_id": OFFICER_ID, "collar_number": "4021", "day": "2026-12-02",
            "day_display": "Wednesday 2 December 2026", "appointments": list(appointments)}  # fmt: skip


def officer(officer_id: str, collar: str) -> dict[str, Any]:
    return {
        "officer_id": officer_id,
        "collar_number": collar,
        "station_id": "stevenage",
        "district_id": "stevenage",
    }


def roster_knows_4021(services: FakeServices) -> None:
    services.answer("/officers", [officer(OFFICER_ID, "4021")])


def test_my_day_finds_the_officer_by_collar_number_and_shows_the_briefing_in_clear() -> None:
    services = FakeServices()
    roster_knows_4021(services)
    visit = appointment(
        appointment_id="apt-2", place="diary-car", place_id="stevenage", room_id=None,
        starts_at="2026-12-02T10:00:00Z", ends_at="2026-12-02T12:00:00Z",
        caller={"subject_id": "subject-" + "b" * 24, "erased": False, "name": "Jo Visit", "phone": None,
                "address": "1 High Street, Stevenage, SG1 1AA"},
    )  # fmt: skip
    services.answer(DAY_PATH, day(appointment(), visit))
    with TestClient(pages(services)) as client:
        sign_in(client, "pc-4021")
        found = client.get("/my-day", params={"day": "2026-12-02"}, follow_redirects=False)
        page = client.get(found.headers["location"])

    assert found.status_code == 303 and found.headers["location"] == DAY_PATH
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for shown in ("My day", "Alex Example", "07700 900123", "41/1234/26", "Bicycle stolen from a shed",
                  "Second theft this month", "Lives alone", "Step-free room", "Polish", "Phone call",
                  "Stevenage police station, confidential room 1", "1 High Street, Stevenage, SG1 1AA",
                  "home visit", "Record that it took place", "Record a no-show"):  # fmt: skip
        assert shown in page.text, shown
    assert page.text.index("10am to midday") < page.text.index("5pm to 6pm")  # in the order of the day
    assert "what=attended" in page.text and "slot=station%7Cstevenage%7C2026-12-02%7C17%3A00" in page.text


def test_an_officer_not_on_the_roster_is_told_so_and_another_officers_day_is_refused() -> None:
    services = FakeServices()
    services.answer("/officers", [officer("someone", "4188")])
    services.answer(DAY_PATH, {"detail": "an officer may open only their own day"}, status=403)
    with TestClient(pages(services)) as client:
        sign_in(client, "pc-4021")
        mine = client.get("/my-day")
        theirs = client.get(DAY_PATH)

    assert mine.status_code == 404 and "You are not on the roster" in mine.text
    assert theirs.status_code == 403 and "You cannot see this" in theirs.text
    assert "Alex Example" not in theirs.text


def test_an_erased_caller_shows_as_erased_and_a_finished_appointment_offers_nothing_to_record() -> None:
    services = FakeServices()
    erased = appointment(
        status="attended",
        caller={
            "subject_id": "subject-" + "c" * 24,
            "erased": True,
            "name": None,
            "phone": None,
            "address": None,
        },
    )
    erased["briefing"] |= {"summary": None, "background": None, "vulnerability": None, "access_needs": None}
    services.answer(DAY_PATH, day(erased))
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        page = client.get(DAY_PATH)

    assert page.status_code == 200 and "Officer 4021" in page.text
    assert "Caller erased" in page.text and "41/1234/26" in page.text  # the case reference stays
    assert "Not given" not in page.text and "Record that it took place" not in page.text
    assert "Took place" in page.text


def test_a_supervisor_opens_an_officers_day_from_the_roster_and_my_day_is_for_officers() -> None:
    services = FakeServices()
    duty = {
        "officer_id": OFFICER_ID,
        "duty_id": "d-1",
        "duty": "appointments",
        "station_id": "stevenage",
        "district_id": "stevenage",
        "starts_at": "2026-12-02T17:00:00Z",
        "ends_at": "2026-12-02T20:00:00Z",
    }
    services.answer("/officers", [officer(OFFICER_ID, "4021") | {"duties": [duty]}])  # fmt: skip
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        roster = client.get("/roster", params={"day": "2026-12-02", "district": "stevenage"})
        mine = client.get("/my-day")

    assert f'href="{DAY_PATH}"' in roster.text
    assert mine.status_code == 403 and "This page is for officers" in mine.text


def test_recording_from_my_day_comes_back_to_the_day_and_no_other_address_is_followed() -> None:
    services = FakeServices()
    services.answers["/appointments/apt-1/attendance"] = lambda _: httpx.Response(
        200, json={"appointment_id": "apt-1", "events": []}
    )
    services.answer(DAY_PATH, day(appointment()))
    with TestClient(pages(services)) as client:
        sign_in(client, "pc-4021")
        briefing = client.get(DAY_PATH)
        link = re.search(r'href="(/appointments/apt-1/attendance\?[^"]+what=attended[^"]*)"', briefing.text)
        assert link, briefing.text
        form = client.get(html.unescape(link.group(1)))
        done = client.post(
            "/appointments/apt-1/attendance",
            data={"csrf": csrf(form.text), "slot": "station|stevenage|2026-12-02|17:00", "what": "attended",
                  "outcome": "advice-given", "return_to": DAY_PATH},
        )  # fmt: skip
        elsewhere = client.get(
            "/appointments/apt-1/attendance",
            params={"day": "https://evil.example/officers/x/days/2026-12-02"},
        )

    assert f'name="return_to" value="{DAY_PATH}"' in form.text and "Back to the day" in form.text
    assert 'value="attended" checked' in form.text  # the choice made on the day page
    assert done.status_code == 200 and f'href="{DAY_PATH}">Back to the day' in done.text
    assert "evil.example" not in elsewhere.text and "Back to the appointment" in elsewhere.text
