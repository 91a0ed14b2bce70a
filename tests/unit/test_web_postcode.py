"""The county page's postcode field, against canned answers: the district's diary car and its
stations' earliest free slots, or a GOV.UK error for the field."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.unit.test_web import FakeServices, client, pages, services, sign_in

__all__ = ["client", "services"]

FOUND = {
    "postcode": "SG14 1AA",
    "district_id": "east-hertfordshire",
    "district_name": "East Hertfordshire",
    "lad_code": "E07000242",
    "diary_car": {"diary_car_id": "east-hertfordshire-diary-car", "name": "East Hertfordshire diary car",
                  "district_id": "east-hertfordshire"},
    "stations": [
        {"station_id": "bishops-stortford", "name": "Bishop's Stortford", "offers_appointments": True},
        {"station_id": "hertford", "name": "Hertford", "offers_appointments": True},
        {"station_id": "buntingford", "name": "Buntingford", "offers_appointments": False},
    ],
    "directory": "ONSPD_TEST_UK.csv",
    "directory_loaded_at": "2026-12-01T09:00:00Z",
}  # fmt: skip


def look_up(client: TestClient, postcode: str, csrf: str | None = None) -> httpx.Response:
    """Send the county page's postcode box as the browser does: a POST with the session's token."""
    if csrf is None:
        found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
        assert found is not None
        csrf = found.group(1)
    sent: httpx.Response = client.post("/", data={"csrf": csrf, "postcode": postcode})
    return sent


def slot(starts: str, when: str, free: int) -> dict[str, Any]:
    return {"starts_at": starts, "ends_at": starts, "local_start": "17:00", "when": when, "free": free}


AVAILABILITY = {
    "places": [
        {"place": "station", "place_id": "hertford", "name": "Hertford", "district_id": "east-hertfordshire",
         "days": [{"day": "2026-12-02", "day_display": "", "closed": None, "slots": [
             slot("2026-12-02T17:00:00Z", "Wednesday 2 December 2026, 5pm to 6pm", 0),
             slot("2026-12-02T18:00:00Z", "Wednesday 2 December 2026, 6pm to 7pm", 1)]}]},
        {"place": "station", "place_id": "bishops-stortford", "name": "Bishop's Stortford",
         "district_id": "east-hertfordshire",
         "days": [{"day": "2026-12-02", "day_display": "", "closed": "not on Wednesdays", "slots": []}]},
        {"place": "diary-car", "place_id": "east-hertfordshire", "name": "East Hertfordshire diary car",
         "district_id": "east-hertfordshire",
         "days": [{"day": "2026-12-03", "day_display": "", "closed": None, "slots": [
             slot("2026-12-03T08:00:00Z", "Thursday 3 December 2026, 8am to 10am", 1)]}]},
    ],
}  # fmt: skip


def test_a_postcode_leads_to_its_district_s_diary_car_and_its_stations_earliest_free_slots(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/postcodes/sg14 1aa", FOUND)
    services.answer("/availability", AVAILABILITY)

    page = look_up(client, " sg14 1aa ")

    assert page.status_code == 200
    assert "SG14 1AA is in East Hertfordshire" in page.text
    assert "Home visits there are made by the <strong>East Hertfordshire diary car</strong>" in page.text
    assert "Earliest free: </span>Thursday 3 December 2026, 8am to 10am" in page.text
    assert "Earliest free: </span>Wednesday 2 December 2026, 6pm to 7pm" in page.text  # 5pm is full
    assert "Earliest free: </span>None this week" in page.text  # Bishop's Stortford, closed
    assert 'href="/book/diary-cars/east-hertfordshire"' in page.text
    assert 'href="/book/stations/hertford"' in page.text
    assert (
        'href="/book/districts/east-hertfordshire">Book the earliest free slot in East Hertfordshire'
        in page.text
    )
    assert "No appointment room at Buntingford." in page.text
    [availability] = [c for c in services.calls if c.url.path == "/availability"]
    assert availability.url.params["district"] == "east-hertfordshire"


def test_a_postcode_the_directory_does_not_have_is_an_error_for_the_field_in_the_service_s_words(
    client: TestClient, services: FakeServices
) -> None:
    reason = "AL1 9ZZ was terminated in June 2019: ask the caller for the postcode the address has now"
    body = {"status": 404, "detail": reason, "errors": [{"field": "postcode", "reason": reason}]}
    services.answer("/postcodes/AL1 9ZZ", body, status=404)

    page = look_up(client, "AL1 9ZZ")

    assert page.status_code == 422
    assert "govuk-error-summary" in page.text and 'href="#postcode"' in page.text
    assert page.text.count(reason) == 2  # the summary and the field's own message
    assert "<title>Error: " in page.text
    assert 'value="AL1 9ZZ"' in page.text
    assert "/availability" not in services.paths()


def test_a_malformed_or_empty_postcode_is_asked_again_plainly(
    client: TestClient, services: FakeServices
) -> None:
    malformed = {"status": 422, "errors": [{"field": "postcode", "reason": "not a UK postcode: ..."}]}
    services.answer("/postcodes/AL1 1A", malformed, status=422)

    page = look_up(client, "AL1 1A")
    assert page.status_code == 422
    assert "Enter a real postcode, like AL1 3JX" in page.text

    calls = len(services.calls)
    for typed in ("", "   "):
        page = look_up(client, typed)
        assert page.status_code == 422
        assert "Enter the caller&#39;s postcode" in page.text
    too_long = look_up(client, "A" * 40)
    assert too_long.status_code == 422 and "Enter a real postcode" in too_long.text
    assert len(services.calls) == calls  # none of these was sent


def test_no_directory_loaded_says_so_without_blaming_the_call_taker(
    client: TestClient, services: FakeServices
) -> None:
    detail = "no postcode directory loaded: an operator loads the ONS Postcode Directory"
    services.answer("/postcodes/AL1 1AA", {"status": 503, "detail": detail}, status=503)

    page = look_up(client, "AL1 1AA")

    assert page.status_code == 200
    assert "No postcode directory has been loaded yet, so postcodes cannot be looked up." in page.text
    assert "govuk-error-summary" not in page.text


def test_those_who_do_not_book_see_no_postcode_field_and_ask_nothing(services: FakeServices) -> None:
    with TestClient(pages(services)) as officer:
        assert sign_in(officer, "pc-4021").status_code == 303
        page = officer.get("/")
        sent = officer.post("/", data={"csrf": "whatever", "postcode": "AL1 1AA"})
    assert page.status_code == 200
    assert 'name="postcode"' not in page.text
    assert sent.status_code == 403
    assert not any(c.url.path.startswith("/postcodes") for c in services.calls)


def test_a_postcode_goes_only_in_a_form_with_the_session_s_token_never_in_an_address(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/postcodes/SG14 1AA", FOUND)
    services.answer("/availability", AVAILABILITY)
    page = client.get("/")
    assert 'method="post" action="/"' in page.text

    forged = look_up(client, "SG14 1AA", csrf="forged")
    in_address = client.get("/", params={"postcode": "SG14 1AA"})

    assert forged.status_code == 403
    assert in_address.status_code == 200 and "postcode-result" not in in_address.text
    assert not any(c.url.path.startswith("/postcodes") for c in services.calls)
