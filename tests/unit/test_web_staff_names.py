"""Everyone by name, never by id: the pages tell the roster's staff directory the name a person
signs in with (PUT /staff/me, with that person's own token), and histories and the access log show
a call taker, supervisor or auditor by that name ("Ana Call-Taker (call taker)"), an officer by
collar number and name, and the subject only for someone who never signed in."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.common.auth import Role
from services.common.token_keys import read_local_token
from tests.unit.test_web import NOW, PASSWORD, PROJECTIONS, ROSTER, FakeServices, sign_in
from web.app import create_app
from web.sign_in import Signer, User, Users
from web.sign_in import _hash as hash_password

URLS = {"projections": PROJECTIONS, "booking": "http://booking.test", "roster": ROSTER}
HISTORY = "/appointments/apt-9/history"
PEOPLE = (
    ("ct-ana", Role.CALL_TAKER, "Ana Call-Taker"),
    ("ps-2710", Role.SUPERVISOR, "PS 2710 Sam Supervisor"),
    ("au-lee", Role.AUDITOR, "Lee Auditor"),
)


def staff_pages(services: FakeServices) -> Any:
    """The pages with a call taker, a supervisor and an auditor who may sign in."""
    salt = b"s" * 16
    people = {u: User(u, role, name, salt, hash_password(PASSWORD, salt)) for u, role, name in PEOPLE}
    return create_app(httpx.MockTransport(services), urls=URLS, now=lambda: NOW, users=Users(people),
                      signer=Signer("a test secret"))  # fmt: skip


def staff(*named: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"subject": s, "name": n, "role": r} for s, n, r in named]


def event(event_id: str, event_type: str, actor: str | None, data: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": event_id, "event_type": event_type, "schema_version": 1, "actor": actor,
            "occurred_at": "2030-09-03T09:15:00Z", "correlation_id": "c", "causation_id": None,
            "source": "/hertfordshire/station-appointments/booking", "data": data}  # fmt: skip


BOOKED = {"appointment_id": "apt-9", "station_id": "cheshunt", "room_id": "cheshunt-room-1",
          "officer_id": "off-1", "starts_at": "2030-09-14T16:00:00Z", "ends_at": "2030-09-14T17:00:00Z",
          "briefing": {"case_reference": "41/900001/30", "thrive_risk": "low"}}  # fmt: skip
OFFICERS = [{"officer_id": "off-1", "collar_number": "4021", "name": "Priya Shah",
             "station_id": "cheshunt", "district_id": "broxbourne"}]  # fmt: skip


def test_signing_in_tells_the_roster_the_person_s_name_with_their_own_token() -> None:
    services = FakeServices()
    with TestClient(staff_pages(services)) as client:
        signed_in = sign_in(client, "ct-ana")

    assert signed_in.status_code == 303
    [naming] = services.namings
    assert str(naming.url) == f"{ROSTER}/staff/me" and json.loads(naming.content) == {
        "name": "Ana Call-Taker"
    }
    caller = read_local_token(naming.headers["authorization"].removeprefix("Bearer "))
    assert (caller.role, caller.subject) == (Role.CALL_TAKER, "ct-ana")


def test_a_roster_that_does_not_answer_never_stops_anyone_signing_in() -> None:
    services = FakeServices()
    services.down(ROSTER)
    services.answer("/diaries/stations/cheshunt/2030-09-03", {"appointments": []})
    with TestClient(staff_pages(services)) as client:
        signed_in = sign_in(client, "ct-ana", next_page="/stations/cheshunt/diary?day=2030-09-03")
        page = client.get("/stations/cheshunt/diary?day=2030-09-03")

    assert signed_in.status_code == 303 and page.status_code == 200
    assert ROSTER.removeprefix("http://") in {c.url.host for c in services.calls}  # it was asked


def test_a_call_taker_s_booking_shows_in_the_history_by_their_name() -> None:
    services = FakeServices()
    services.answer(HISTORY, [
        event("e1", "SlotBooked", "call-taker:ct-ana", BOOKED),
        event("e2", "AppointmentReassigned", "officer:pc-4021",
              {"appointment_id": "apt-9", "from_officer_id": "off-1", "to_officer_id": "off-1"}),
        event("e3", "AppointmentCancelled", "call-taker:cad-7",
              {"appointment_id": "apt-9", "initiator": "public", "reason": "caller-request"}),
    ])  # fmt: skip
    services.answer("/staff", staff(("ct-ana", "Ana Call-Taker", "call-taker"),
                                    ("pc-4021", "PC 4021 Priya", "officer")))  # fmt: skip
    services.answer("/officers", OFFICERS)
    with TestClient(staff_pages(services)) as client:
        sign_in(client, "au-lee")
        page = client.get("/appointments/apt-9")

    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "Ana Call-Taker (call taker)" in text and "ct-ana" not in text
    assert "Officer 4021 Priya Shah (pc-4021)" in text  # an officer on the roster: collar number and name
    assert "Call taker cad-7" in text  # never signed in (a control-room system): by subject


def test_the_access_log_names_staff_by_the_name_they_signed_in_with() -> None:
    services = FakeServices()
    entry = {"at": "2030-09-03T10:15:00Z", "operation": "consultation", "subject_id": "subject-" + "b" * 24,
             "appointment_id": "apt-9", "by": "supervisor:ps-2710", "what": "appointment history",
             "channel": "GET /appointments/{appointment_id}/history", "recipient": None,
             "recorded_in": "projections"}  # fmt: skip
    services.answer("/access-log", [entry, entry | {"by": "call-taker:cad-7"}])
    services.answer("/staff", staff(("ps-2710", "Sam Okafor", "supervisor")))
    services.answer("/officers", [])
    with TestClient(staff_pages(services)) as client:
        sign_in(client, "au-lee")
        page = client.get("/access-log", params={"subject": entry["subject_id"]})

    text = " ".join(page.text.split())
    assert page.status_code == 200 and "Sam Okafor (supervisor)" in text and "ps-2710" not in text
    assert "cad-7 (call-taker)" in text


def test_a_name_recorded_at_a_sign_in_shows_at_once_not_after_the_pages_minute() -> None:
    services = FakeServices()
    services.answer(HISTORY, [event("e1", "SlotBooked", "call-taker:ct-ana", BOOKED)])
    services.answer("/officers", OFFICERS)
    directory = staff()
    services.answers["/staff"] = lambda _: httpx.Response(200, json=directory)
    with TestClient(staff_pages(services)) as client:
        sign_in(client, "au-lee")
        before = client.get("/appointments/apt-9")
        directory.extend(staff(("ct-ana", "Ana Call-Taker", "call-taker")))
        sign_in(client, "ct-ana")  # the roster answers 201: a name new to it
        client.cookies.clear()
        sign_in(client, "au-lee")
        after = client.get("/appointments/apt-9")

    assert "Call taker ct-ana" in " ".join(before.text.split())
    assert "Ana Call-Taker (call taker)" in " ".join(after.text.split())
