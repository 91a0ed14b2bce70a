"""People sign in to the pages, and the pages call the services with that person's own token."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from services.common.auth import Caller, Role
from services.common.config import Settings
from services.common.token_keys import read_local_token
from tests.unit.test_web import PASSWORD, FakeServices, pages, sign_in
from web.sign_in import SESSION_COOKIE, Signer, User, Users, ensure_local_users, passwords_path, safe_next


def tokens_sent(services: FakeServices) -> list[Caller]:
    bearer = [c.headers.get("authorization", "") for c in services.calls]
    return [read_local_token(b.removeprefix("Bearer ")) for b in bearer if b]


def test_a_page_asks_whoever_is_not_signed_in_to_sign_in_first() -> None:
    services = FakeServices()
    with TestClient(pages(services)) as client:
        response = client.get("/stations/cheshunt/diary?day=2026-12-02", follow_redirects=False)
        assert response.status_code == 303
        assert (
            response.headers["location"] == "/sign-in?next=%2Fstations%2Fcheshunt%2Fdiary%3Fday%3D2026-12-02"
        )
        assert client.post("/sign-out", follow_redirects=False).status_code == 401
    assert services.calls == []  # nothing reached the services for them


def test_a_wrong_password_or_an_unknown_name_is_refused_alike() -> None:
    with TestClient(pages(FakeServices())) as client:
        wrong = sign_in(client, "ps-2710", "not it")
        unknown = sign_in(client, "nobody", PASSWORD)
        for response in (wrong, unknown):
            assert response.status_code == 401
            assert "The user name or the password is not right." in response.text
            assert SESSION_COOKIE not in response.cookies


def test_a_sign_in_form_without_its_csrf_token_is_refused() -> None:
    with TestClient(pages(FakeServices())) as client:
        client.get("/sign-in")
        form = {"csrf": "made-up", "username": "ps-2710", "password": PASSWORD}
        assert client.post("/sign-in", data=form, follow_redirects=False).status_code == 403


def test_the_pages_call_the_services_with_the_signed_in_persons_own_token() -> None:
    services = FakeServices()
    services.answer("/diaries/stations/cheshunt/2026-12-02", {"place": "station", "place_id": "cheshunt",
                    "day": "2026-12-02", "day_display": "Wednesday 2 December 2026", "as_at": None,
                    "appointments": []})  # fmt: skip
    with TestClient(pages(services)) as client:
        signed = sign_in(client, "pc-4021", next_page="/stations/cheshunt/diary?day=2026-12-02")
        assert signed.headers["location"] == "/stations/cheshunt/diary?day=2026-12-02"
        page = client.get(signed.headers["location"])
    assert page.status_code == 200 and "PC 4021 (officer)" in page.text
    # The diary, who is on duty (roster), what is free (booking) and what moved away: each asked with
    # the officer's own token.
    assert tokens_sent(services) == [Caller(Role.OFFICER, "pc-4021")] * 4


def test_signing_out_needs_the_sessions_own_csrf_token_and_ends_the_session() -> None:
    with TestClient(pages(FakeServices())) as client:
        sign_in(client, "ps-2710")
        page = client.get("/sign-in")  # any page carries the sign-out form once signed in
        home = client.get("/", follow_redirects=False)
        match = re.search(r'action="/sign-out">.*?name="csrf" value="([^"]+)"', home.text, re.S)
        assert page.status_code == 200 and match, home.text[:500]
        assert client.post("/sign-out", data={"csrf": "forged"}, follow_redirects=False).status_code == 403
        out = client.post("/sign-out", data={"csrf": match.group(1)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/sign-in"
        assert client.get("/", follow_redirects=False).status_code == 303


def test_an_expired_or_tampered_session_is_no_session() -> None:
    signer = Signer("secret")
    person = User("ps-2710", Role.SUPERVISOR, "PS 2710", b"s" * 16, b"h")
    session, cookie = signer.session(person, now=1_000_000.0)
    assert signer.read_session(cookie, now=1_000_000.0 + 60) == session
    assert signer.read_session(cookie, now=1_000_000.0 + 9 * 3600) is None  # past its 8 hours
    body, mac = cookie.split(".")
    assert signer.read_session(f"{body}x.{mac}", now=1_000_060.0) is None
    assert Signer("another secret").read_session(cookie, now=1_000_060.0) is None


def test_after_signing_in_only_a_page_of_this_site_is_followed() -> None:
    assert safe_next("/stations/x/diary?day=2026-12-02") == "/stations/x/diary?day=2026-12-02"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example", None, ""):
        assert safe_next(elsewhere) == "/"


def test_local_users_are_made_once_with_their_passwords_kept_for_the_owner_only(tmp_path: Path) -> None:
    cfg = Settings(state_dir=tmp_path)
    made = ensure_local_users(cfg)
    assert {role for _, role, _, _ in made} == {Role.CALL_TAKER, Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR,
                                                 Role.ADMIN}  # fmt: skip
    assert stat.S_IMODE(passwords_path(cfg).stat().st_mode) == 0o600
    users = Users.load(tmp_path / "web-users.json")
    username, role, _, password = made[0]
    person = users.check(username, password)
    assert person is not None and person.role == role
    assert users.check(username, password + "x") is None
    assert password not in (tmp_path / "web-users.json").read_text()
    assert ensure_local_users(cfg) == []  # made once
    assert ensure_local_users(Settings(state_dir=tmp_path / "prod", environment="production")) == []


def test_an_officer_sees_what_the_services_refuse_an_officer() -> None:
    services = FakeServices()
    services.answers["/appointments/apt-1/history"] = lambda _: httpx.Response(
        403, json={"status": 403, "detail": "role officer may not do this"}
    )
    with TestClient(pages(services)) as client:
        sign_in(client, "pc-4021")
        page = client.get("/appointments/apt-1")
    assert page.status_code == 403
    assert tokens_sent(services) == [Caller(Role.OFFICER, "pc-4021")]
