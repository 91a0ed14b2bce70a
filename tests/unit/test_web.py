"""The web pages, against canned service answers (no servers): what people see, and what is refused."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.common.auth import Role
from services.common.reference import load_county
from services.common.token_keys import read_local_token
from web.app import create_app
from web.london_input import LocalTimeError, london_instant
from web.sign_in import Signer, User, Users
from web.sign_in import _hash as hash_password

PROJECTIONS = "http://projections.test"
BOOKING = "http://booking.test"
ROSTER = "http://roster.test"
# A fixed "now" so the county page's links and default days do not depend on the test's date.
NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


class FakeServices:
    """Canned answers by path, and a record of every call the pages made."""

    def __init__(self) -> None:
        self.answers: dict[str, Handler] = {}
        self.calls: list[httpx.Request] = []
        # Sign-ins telling the roster the person's name (PUT /staff/me, web.staff): kept apart from
        # ``calls``, the calls the pages make for what people ask of them.
        self.namings: list[httpx.Request] = []

    def answer(self, path: str, body: Any, status: int = 200) -> None:
        """Answer GET ``path`` with ``body`` as JSON."""
        self.answers[path] = lambda _: httpx.Response(status, json=body)

    def down(self, base: str) -> None:
        """Make every call to ``base`` fail as a refused connection does."""
        self.answers[base] = _refuse

    def __call__(self, request: httpx.Request) -> httpx.Response:
        base = f"{request.url.scheme}://{request.url.host}"
        if request.method == "PUT" and request.url.path == "/staff/me" and base not in self.answers:
            self.namings.append(request)
            return httpx.Response(201, json={})
        self.calls.append(request)
        handler = self.answers.get(base) or self.answers.get(request.url.path)
        if handler is None:
            return httpx.Response(404, json={"status": 404, "detail": "nothing canned here"})
        return handler(request)

    def paths(self) -> list[str]:
        """The paths called, in order."""
        return [c.url.path for c in self.calls]


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
def services() -> FakeServices:
    """The projections and booking services, faked."""
    return FakeServices()


PASSWORD = "a supervisor's password"


def people() -> Users:
    """A supervisor and an officer who may sign in (the pages' users file, in memory)."""
    found: dict[str, User] = {}
    for username, role, name in (
        ("ps-2710", Role.SUPERVISOR, "PS 2710 Sam"),
        ("pc-4021", Role.OFFICER, "PC 4021"),
    ):
        salt = b"s" * 16
        found[username] = User(username, role, name, salt, hash_password(PASSWORD, salt))
    return Users(found)


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, next_page: str = "/"
) -> httpx.Response:
    """Open the sign-in page and send its form, as a person would."""
    page = client.get("/sign-in", params={"next": next_page})
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    form = {"csrf": match.group(1), "next": next_page, "username": username, "password": password}
    response: httpx.Response = client.post("/sign-in", data=form, follow_redirects=False)
    return response


def pages(services: FakeServices) -> Any:
    return create_app(
        httpx.MockTransport(services),
        urls={"projections": PROJECTIONS, "booking": BOOKING, "roster": ROSTER},
        now=lambda: NOW,
        users=people(),
        signer=Signer("a test secret"),
    )


@pytest.fixture
def client(services: FakeServices) -> Iterator[TestClient]:
    """The pages, calling the fake services, with a supervisor signed in."""
    with TestClient(pages(services)) as test_client:
        assert sign_in(test_client, "ps-2710").status_code == 303
        yield test_client


def _diary(*appointments: dict[str, Any]) -> dict[str, Any]:
    return {
        "place": "station",
        "place_id": "cheshunt",
        "day": "2026-12-02",
        "day_display": "Wednesday 2 December 2026",
        "as_at": None,
        "appointments": list(appointments),
    }


EVENING_SLOT = {
    "appointment_id": "apt-123",
    "starts_at": "2026-12-02T17:00:00Z",
    "ends_at": "2026-12-02T18:00:00Z",
    "local_start": "2026-12-02T17:00:00+00:00",
    "when": "5pm to 6pm",
    "room_id": "cheshunt-room-1",
    "officer_id": "PC 4021",
    "status": "booked",
    "case_reference": "41/123456/26",
    "thrive_risk": "medium",
}


def test_county_page_lists_all_eleven_appointment_stations(client: TestClient) -> None:
    page = client.get("/")

    assert page.status_code == 200
    stations = load_county().appointment_stations()
    assert len(stations) == 11
    for station in stations:
        assert f"{station.name} police station".replace("'", "&#39;") in page.text
        assert f'href="/stations/{station.id}/diary?day=2026-12-02"' in page.text
    assert len(re.findall(r'href="/stations/[^"/]+/diary', page.text)) == 11
    assert 'href="/diary-cars/dacorum/diary?day=2026-12-02"' in page.text
    assert "5pm to 8pm Sunday to Thursday" in page.text
    assert "Monday, Wednesday, Friday and Sunday" in page.text


def test_diary_page_shows_the_day_and_times_as_london_reads_them(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/diaries/stations/cheshunt/2026-12-02", _diary(EVENING_SLOT))

    page = client.get("/stations/cheshunt/diary", params={"day": "2026-12-02"})

    assert page.status_code == 200
    assert "Wednesday 2 December 2026" in page.text
    assert "5pm to 6pm" in page.text
    for shown in ("Booked", "Confidential room 1", "41/123456/26", "Medium"):
        assert shown in page.text
    # The roster does not answer here: the officer is not named, and never shown by their id.
    assert "Officer: </span>Not shown (the roster could not be read)" in page.text
    assert "PC 4021" not in page.text
    # The appointment's page, told where and when it is (so a call taker can move it).
    assert 'href="/appointments/apt-123?slot=station%7Ccheshunt%7C2026-12-02%7C17%3A00"' in page.text
    assert "day=2026-12-01" in page.text and "day=2026-12-03" in page.text
    # Who is on duty, what is free and what moved away are asked beside the diary; the officer's
    # collar number and name are asked of the roster.
    assert sorted(services.paths()) == sorted([
        "/diaries/stations/cheshunt/2026-12-02", "/duties", "/stations/cheshunt/free-slots", "/officers",
        "/diaries/stations/cheshunt/2026-12-02/moved-away",
    ])  # fmt: skip
    assert "The roster cannot say just now." in page.text
    for call in services.calls:
        caller = read_local_token(call.headers["authorization"].removeprefix("Bearer "))
        assert caller.role is Role.SUPERVISOR


def test_diary_car_page_reads_the_district_diary_car(client: TestClient, services: FakeServices) -> None:
    services.answer("/diaries/diary-cars/dacorum/2026-06-14", _diary())

    page = client.get("/diary-cars/dacorum/diary?day=2026-06-14")

    assert page.status_code == 200
    assert "Dacorum diary car" in page.text
    assert "Sunday 14 June 2026" in page.text
    assert "No appointments are booked" in page.text


def test_a_down_projections_service_gives_a_clear_page_not_a_500(
    client: TestClient, services: FakeServices
) -> None:
    services.down(PROJECTIONS)

    page = client.get("/stations/cheshunt/diary?day=2026-12-02")

    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "Sorry, the diary is not available just now" in page.text
    assert "projections" in page.text and "is not answering" in page.text
    assert "Traceback" not in page.text


def test_a_service_that_refuses_the_token_is_named_on_the_page(
    client: TestClient, services: FakeServices
) -> None:
    services.answer(
        "/diaries/stations/cheshunt/2026-12-02", {"status": 401, "detail": "token expired"}, status=401
    )

    page = client.get("/stations/cheshunt/diary?day=2026-12-02")

    assert page.status_code == 502
    assert "could not sign in" in page.text


@pytest.mark.parametrize(
    ("local_date", "local_time", "words"),
    [
        ("2026-03-29", "01:30", "did not happen in London: the clocks went forward"),
        ("2026-10-25", "01:30", "happened twice in London: the clocks went back"),
    ],
)
def test_as_it_stood_refuses_a_local_time_a_clock_change_skips_or_repeats(
    client: TestClient, services: FakeServices, local_date: str, local_time: str, words: str
) -> None:
    page = client.get(
        "/stations/cheshunt/diary",
        params={"day": "2026-12-02", "at_date": local_date, "at_time": local_time},
    )

    assert page.status_code == 422
    assert words in page.text
    assert "1:30am" in page.text
    assert 'aria-invalid="true"' in page.text
    assert services.calls == []


def test_as_it_stood_sends_the_london_time_as_a_utc_instant(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/diaries/stations/cheshunt/2026-12-02", _diary(EVENING_SLOT))

    page = client.get(
        "/stations/cheshunt/diary",
        params={"day": "2026-12-02", "at_date": "2026-06-14", "at_time": "17:30"},
    )

    assert page.status_code == 200
    assert services.calls[0].url.params["at"] == "2026-06-14T16:30:00+00:00"
    assert "as it stood at 5:30pm on Sunday 14 June 2026" in page.text
    # The other days keep the same moment, so paging through stays "as it stood".
    assert "at=2026-06-14T16%3A30%3A00%2B00%3A00" in page.text


def test_london_instant_converts_both_sides_of_the_clock_changes() -> None:
    assert london_instant(date(2026, 3, 29), time(0, 59)) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert london_instant(date(2026, 3, 29), time(2, 0)) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert london_instant(date(2026, 10, 25), time(2, 0)) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    with pytest.raises(LocalTimeError):
        london_instant(date(2026, 10, 25), time(1, 0))


def test_free_slots_are_grouped_by_london_day(client: TestClient, services: FakeServices) -> None:
    def slot(starts: str, ends: str) -> dict[str, Any]:
        return {
            "place": "station",
            "place_id": "hertford",
            "starts_at": starts,
            "ends_at": ends,
            "room_id": "hertford-room-1",
            "day": "",
            "when": "",
        }

    services.answer(
        "/stations/hertford/free-slots",
        [
            slot("2026-06-14T17:00:00Z", "2026-06-14T18:00:00Z"),
            slot("2026-06-14T16:00:00Z", "2026-06-14T17:00:00Z"),
            slot("2026-06-15T18:00:00Z", "2026-06-15T19:00:00Z"),
        ],
    )

    page = client.get("/stations/hertford/free-slots?from=2026-06-14&to=2026-06-15")

    assert page.status_code == 200
    assert services.calls[0].url.params["from"] == "2026-06-14"
    assert services.calls[0].url.params["to"] == "2026-06-15"
    sunday, monday = page.text.index("Sunday 14 June 2026"), page.text.index("Monday 15 June 2026</h2>")
    assert sunday < page.text.index("5pm to 6pm") < page.text.index("6pm to 7pm") < monday
    assert page.text.index("7pm to 8pm") > monday


def test_booking_refusing_a_range_is_shown_on_the_form(client: TestClient, services: FakeServices) -> None:
    services.answer(
        "/stations/hertford/free-slots",
        {"status": 422, "detail": "those days are in the past", "errors": [{"field": "from", "reason": "x"}]},
        status=422,
    )

    page = client.get("/stations/hertford/free-slots?from=2020-01-01&to=2020-01-02")

    assert page.status_code == 422
    assert "those days are in the past" in page.text


def test_history_is_a_timeline_of_when_what_and_who_without_personal_data(
    client: TestClient, services: FakeServices
) -> None:
    sealed = {"key_id": "k1", "ciphertext": "c2VhbGVk"}
    services.answer(
        "/appointments/apt-123/history",
        [
            {
                "event_id": "e1",
                "event_type": "SlotBooked",
                "schema_version": 1,
                "actor": "call-taker:CT1234",
                "occurred_at": "2026-06-10T09:15:00Z",
                "correlation_id": "c1",
                "causation_id": None,
                "source": "/hertfordshire/station-appointments/booking",
                "channel": "control-room",
                "data": {
                    "appointment_id": "apt-123",
                    "station_id": "cheshunt",
                    "room_id": "cheshunt-room-1",
                    "officer_id": "PC 4021",
                    "starts_at": "2026-06-14T16:00:00Z",
                    "ends_at": "2026-06-14T17:00:00Z",
                    "caller": {"subject_id": "s1", "name": sealed, "phone": sealed},
                    "briefing": {"case_reference": "41/123456/26", "summary": sealed, "thrive_risk": "high"},
                },
            },
            {
                "event_id": "e2",
                "event_type": "AppointmentCancelled",
                "schema_version": 1,
                "actor": None,
                "occurred_at": "2026-06-12T11:00:00Z",
                "correlation_id": "c2",
                "causation_id": "e1",
                "source": "/hertfordshire/station-appointments/booking",
                "data": {
                    "starts_at": "2026-06-14T16:00:00Z",
                    "initiated_by": "public",
                    "reason": "no-longer-needed",
                    "note": sealed,
                },
            },
        ],
    )

    page = client.get("/appointments/apt-123")

    assert page.status_code == 200
    assert "case 41/123456/26" in page.text
    assert page.text.index("Station appointment booked") < page.text.index("Cancelled")
    assert "10:15am on Wednesday 10 June 2026" in page.text
    assert "midday on Friday 12 June 2026" in page.text
    assert "Call taker CT1234" in page.text and "The booking service" in page.text
    # How each came, where the projections say: the booking from the control room; the other, unsaid.
    assert "Call taker CT1234, from the control room" in page.text
    assert "The booking service, " not in page.text
    assert "Sunday 14 June 2026, 5pm to 6pm" in page.text
    assert "Reason: no longer needed" in page.text
    assert 'href="/stations/cheshunt/diary?day=2026-06-14"' in page.text
    assert "c2VhbGVk" not in page.text and "k1" not in page.text


def test_an_unknown_appointment_or_station_is_a_page_saying_so(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/appointments/nope/history", {"status": 404, "detail": "no appointment"}, status=404)

    assert "No such appointment" in client.get("/appointments/nope").text
    station = client.get("/stations/berkhamsted/diary")
    assert station.status_code == 404
    assert "No such appointment station" in station.text
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


def test_an_answer_the_pages_cannot_read_is_a_clear_page(client: TestClient, services: FakeServices) -> None:
    services.answer("/diaries/stations/cheshunt/2026-12-02", {"appointments": [{"starts_at": "soon"}]})

    page = client.get("/stations/cheshunt/diary?day=2026-12-02")

    assert page.status_code == 502
    assert "answered in a shape these pages do not understand" in page.text


def test_an_unexpected_failure_is_a_page_with_a_reference_not_a_trace(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(client.app.state.pages, "county_page", broken)  # type: ignore[attr-defined]

    page = client.get("/")

    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Sorry, there is a problem with the pages" in page.text
    assert page.headers["x-correlation-id"] in page.text
    assert "a bug" not in page.text and "Traceback" not in page.text


def test_health_names_the_service_that_is_down(client: TestClient, services: FakeServices) -> None:
    services.answer("/health", {"status": "up"})
    assert client.get("/health").status_code == 200

    services.down(BOOKING)
    health = client.get("/health")

    assert health.status_code == 503
    assert health.json()["checks"]["projections"] == "up"
    assert health.json()["checks"]["booking"].startswith("down")
    assert client.get("/metrics").status_code == 200
    assert "/stations/{station_id}/diary" in client.get("/openapi.json").json()["paths"]
