"""The access log page for auditors, against canned projections answers."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.common.auth import Role
from tests.unit.test_web import NOW, PASSWORD, PROJECTIONS, FakeServices, pages, sign_in
from web.app import create_app
from web.sign_in import Signer, User, Users
from web.sign_in import _hash as hash_password

URLS = {"projections": PROJECTIONS, "booking": "http://booking.test", "roster": "http://roster.test"}


def test_an_officer_sees_no_access_log() -> None:
    services = FakeServices()
    with TestClient(pages(services)) as client:
        sign_in(client, "pc-4021")
        log = client.get("/access-log")

    assert log.status_code == 403 and "You cannot see the access log" in log.text
    assert services.paths() == []


ENTRY = {
    "at": "2026-12-02T10:15:00Z", "operation": "consultation", "subject_id": "subject-" + "a" * 24,
    "appointment_id": "apt-1", "by": "officer:pc-4021", "what": "officers-day of officer off-1 on 2026-12-02",
    "channel": "GET /officers/{officer_id}/days/{day}", "recipient": None, "event_id": "e-1",
    "recorded_in": "projections",
}  # fmt: skip


def auditor_pages(services: FakeServices) -> Any:
    """The pages with an auditor who may sign in too."""
    salt = b"s" * 16
    people = {u: User(u, role, u, salt, hash_password(PASSWORD, salt))
              for u, role in (("au-lee", Role.AUDITOR), ("ps-2710", Role.SUPERVISOR))}  # fmt: skip
    return create_app(httpx.MockTransport(services), urls=URLS, now=lambda: NOW, users=Users(people),
                      signer=Signer("a test secret"))  # fmt: skip


def test_the_access_log_shows_who_opened_whose_data_for_the_days_asked_and_only_to_auditors() -> None:
    services = FakeServices()
    services.answer("/access-log", [ENTRY])
    services.answer("/officers", [{"officer_id": "off-1", "collar_number": "4021", "name": "Sam Okafor",
                                   "station_id": "stevenage", "district_id": "stevenage"}])  # fmt: skip
    with TestClient(auditor_pages(services)) as client:
        sign_in(client, "ps-2710")
        refused = client.get("/access-log")  # supervisors read the figures, not the log
        client.cookies.clear()
        sign_in(client, "au-lee")
        today = client.get("/access-log")
        client.get("/access-log", params={"subject": ENTRY["subject_id"]})
        wrong = client.get("/access-log", params={"subject": "Alex Example"})

    assert refused.status_code == 403
    assert today.status_code == 200 and today.headers["cache-control"] == "no-store"
    asked = [dict(c.url.params) for c in services.calls if c.url.path == "/access-log"]
    assert "/officers" in services.paths()  # the auditor reads the roster's collar numbers
    assert asked[0] == {"limit": "500", "from": "2026-12-02", "to": "2026-12-02"}  # today, London
    assert asked[1] == {"limit": "500", "subject": ENTRY["subject_id"]}  # a subject: every day
    for shown in (
        'Consulted: <a class="govuk-link" href="/officers/off-1/days/2026-12-02">',
        "Officer 4021 Sam Okafor&#39;s day with its briefings, Wednesday 2 December 2026</a>",
        "4021 Sam Okafor, pc-4021 (officer)",  # who opened it: an officer on the roster, named
        ENTRY["subject_id"],
        'href="/appointments/apt-1"',
        "10:15am on Wednesday 2 December 2026",
    ):
        assert shown in today.text, shown
    assert wrong.status_code == 422 and 'href="#subject"' in wrong.text and len(asked) == 2


def test_an_erasure_shows_in_the_log_as_erased_by_whom_with_what_was_emptied() -> None:
    services = FakeServices()
    erased = {
        **ENTRY, "operation": "erasure", "appointment_id": None, "by": "admin:4021",
        "what": "erased: key destroyed; emptied from 3 history event(s), 4 notifications row(s),"
                " 2 topic record(s)",
        "channel": "appointments erase", "event_id": "e-2",
    }  # fmt: skip
    services.answer("/access-log", [ENTRY, erased])
    services.answer("/officers", [])
    with TestClient(auditor_pages(services)) as client:
        sign_in(client, "au-lee")
        page = client.get("/access-log", params={"subject": ENTRY["subject_id"]})

    assert page.status_code == 200
    assert "Erased: key destroyed; emptied from 3 history event(s)" in page.text
    assert "appointments erase" in page.text and "4021 (admin)" in page.text
    assert page.text.index("Consulted") < page.text.index("Erased")
