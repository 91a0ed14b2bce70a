"""Signing in to the pages through an OpenID Connect provider: a small fake provider on the loopback
issues real RS256-signed tokens from a key made here, and the whole redirect flow is driven as a
browser would (the pages in a test client, the provider over real HTTP). The pages must check the
ID token against the provider's published keys, and call the services with the provider's access
token only when the services themselves would accept it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from authlib.oidc.core.util import create_half_hash  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from services.common.auth import Caller, Role, TokenRules, TokenVerifier
from services.common.jwks import JwksKeys
from tests.unit.test_web import PROJECTIONS, FakeServices, pages, people
from web.app import create_app
from web.oidc import OidcSettings, OidcSignIn
from web.sign_in import SESSION_COOKIE, Signer

CLIENT_ID, CLIENT_SECRET = "station-appointments-pages", secrets.token_urlsafe(16)
CALLBACK = "http://testserver/sign-in/callback"
SERVICES_AUDIENCE = "station-appointments"
DIARY = "/stations/cheshunt/diary?day=2026-12-02"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class FakeProvider:
    """An identity provider with one signing key, signing in whoever the test names next."""

    issuer: str
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "herts-1"}))
    person: dict[str, Any] = field(
        default_factory=lambda: {"sub": "4127", "name": "PS 4127 Sam", "roles": ["Herts.Sergeant"]}
    )
    access_role: str = "supervisor"
    # Claims a provider may add to its access tokens (group lists can be long).
    access_extra: dict[str, Any] = field(default_factory=dict)
    access_audience: str = SERVICES_AUDIENCE
    # Mischief for the tests: sign the ID token with another key, or answer with another nonce.
    forge_with: RSAKey | None = None
    nonce_instead: str | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    verified_pkce: int = 0
    # Refresh tokens: given when ``offline`` (with ``access_seconds``-long access tokens), the
    # subject each was given for, those revoked, and how many refreshes were answered.
    offline: bool = False
    access_seconds: int = 3600
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    refreshes: int = 0
    down: bool = False

    def access_token(self, subject: str) -> str:
        """An access token for ``subject`` as the provider issues it now."""
        now = int(time.time())
        access = jwt.encode(
            {"alg": "RS256", "kid": "herts-1"},
            {"iss": self.issuer, "aud": self.access_audience, "sub": subject, "iat": now,
             "exp": now + self.access_seconds, "jti": secrets.token_urlsafe(8), "role": self.access_role,
             **self.access_extra},
            self.key,
        )  # fmt: skip
        self.issued.append(access)
        return access

    def id_token(self, access: str, nonce: str | None) -> str:
        """An ID token for the person signed in, bound to ``access`` (and the nonce, at sign-in)."""
        now = int(time.time())
        return jwt.encode(
            {"alg": "RS256", "kid": "herts-1"},
            {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
             **({"nonce": nonce} if nonce else {}),
             "at_hash": create_half_hash(access, "RS256").decode(), **self.person},
            self.forge_with or self.key,
        )  # fmt: skip

    def refresh_token_for(self, subject: str) -> str:
        """A new refresh token for ``subject``."""
        given = "rt-" + secrets.token_urlsafe(32)
        self.refresh_tokens[given] = subject
        return given

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "end_session_endpoint": f"{self.issuer}/logout",
            }

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False) | {"use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(request: Request) -> Response:
            q = request.query_params
            assert q["client_id"] == CLIENT_ID and q["redirect_uri"] == CALLBACK
            assert q["response_type"] == "code" and "openid" in q["scope"].split()
            assert q["code_challenge_method"] == "S256" and "code_verifier" not in q
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": q["code_challenge"], "nonce": q["nonce"]}
            return RedirectResponse(f"{CALLBACK}?{urlencode({'code': code, 'state': q['state']})}", 302)

        @app.post("/token")
        async def token(request: Request) -> Response:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            grant_type, code = form.get("grant_type", ""), form.get("code", "")
            redirect_uri, code_verifier = form.get("redirect_uri", ""), form.get("code_verifier", "")
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {basic}":
                return JSONResponse({"error": "invalid_client"}, 401)
            if grant_type == "refresh_token":
                return self.refresh(form.get("refresh_token", ""))
            asked = self.codes.pop(code, None)
            digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=")
            if asked is None or grant_type != "authorization_code" or redirect_uri != CALLBACK:
                return JSONResponse({"error": "invalid_grant"}, 400)
            if digest.decode() != asked["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
            self.verified_pkce += 1
            access = self.access_token(self.person["sub"])
            id_token = self.id_token(access, self.nonce_instead or asked["nonce"])
            answer = {"access_token": access, "id_token": id_token, "token_type": "Bearer",
                      "expires_in": self.access_seconds}  # fmt: skip
            if self.offline:
                answer["refresh_token"] = self.refresh_token_for(self.person["sub"])
            return JSONResponse(answer)

        return app

    def refresh(self, given: str) -> Response:
        """The refresh grant: a new access token, ID token and (rotated) refresh token."""
        if self.down:
            return Response("the provider is down", 503, media_type="text/plain")
        subject = self.refresh_tokens.pop(given, None)
        if subject is None or given in self.revoked:
            return JSONResponse({"error": "invalid_grant", "error_description": "revoked or used"}, 400)
        self.refreshes += 1
        access = self.access_token(subject)
        return JSONResponse(
            {"access_token": access, "id_token": self.id_token(access, None), "token_type": "Bearer",
             "expires_in": self.access_seconds, "refresh_token": self.refresh_token_for(subject)}
        )  # fmt: skip


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    """The fake provider, served by uvicorn on the loopback for the module's tests."""
    port = _free_port()
    fake = FakeProvider(f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield fake
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def fresh(provider: FakeProvider) -> FakeProvider:
    """The provider as it is by default (each test may make mischief)."""
    provider.person = {"sub": "4127", "name": "PS 4127 Sam", "roles": ["Herts.Sergeant"]}
    provider.access_role, provider.access_audience = "supervisor", SERVICES_AUDIENCE
    provider.forge_with, provider.nonce_instead, provider.access_extra = None, None, {}
    provider.offline, provider.access_seconds, provider.down = False, 3600, False
    provider.refreshes = 0
    provider.refresh_tokens.clear()
    provider.revoked.clear()
    return provider


def rules(provider: FakeProvider) -> TokenRules:
    """The services' token rules, as a deployment trusting the provider sets them."""
    return TokenRules(provider.issuer, SERVICES_AUDIENCE, ("RS256",), "role")


def oidc_pages(provider: FakeProvider, services: FakeServices, clock: Callable[[], float] = time.time) -> Any:
    settings = OidcSettings(
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        role_map="Herts.Sergeant=supervisor,Herts.CallHandler=call-taker",
        redirect_url=CALLBACK,
    )
    return create_app(
        httpx.MockTransport(services),
        urls={"projections": PROJECTIONS, "booking": "http://booking.test", "roster": "http://roster.test"},
        users=people(),
        signer=Signer("a test secret"),
        oidc=OidcSignIn(settings, rules(provider)),
        clock=clock,
    )


def sign_in_through_the_provider(client: TestClient, wanted: str = DIARY) -> httpx.Response:
    """What a browser does: the page, the sign-in page, its button, the provider, and back."""
    sent_away = client.get(wanted, follow_redirects=False)
    assert sent_away.status_code == 303
    page = client.get(sent_away.headers["location"])
    assert 'name="password"' not in page.text  # the force's accounts only
    button = re.search(r'href="(/sign-in/oidc\?[^"]+)"', page.text)
    assert button, page.text
    to_provider = client.get(button.group(1).replace("&amp;", "&"), follow_redirects=False)
    assert to_provider.status_code == 303
    at_provider = httpx.get(to_provider.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    back = at_provider.headers["location"]
    assert back.startswith(CALLBACK)
    came_back: httpx.Response = client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    return came_back


def test_a_person_signs_in_at_the_provider_and_the_pages_call_the_services_with_its_access_token(
    fresh: FakeProvider,
) -> None:
    services = FakeServices()
    services.answer("/diaries/stations/cheshunt/2026-12-02", {"appointments": []})
    with TestClient(oidc_pages(fresh, services)) as client:
        came_back = sign_in_through_the_provider(client)
        assert came_back.status_code == 303 and came_back.headers["location"] == DIARY
        page = client.get(DIARY)

    assert page.status_code == 200 and "PS 4127 Sam (supervisor)" in page.text
    assert fresh.verified_pkce >= 1
    sent = services.calls[0].headers["authorization"].removeprefix("Bearer ")
    assert {c.headers["authorization"] for c in services.calls} == {f"Bearer {sent}"}
    assert sent == fresh.issued[-1]  # the provider's own access token, not one the pages made
    # The roster's staff directory was told the provider's name claim, with that same token.
    [naming] = services.namings
    assert naming.url.path == "/staff/me" and naming.content == b'{"name":"PS 4127 Sam"}'
    assert naming.headers["authorization"] == f"Bearer {sent}"
    # ... and one the services accept, checked as they check it (the provider's JWKS).
    verifier = TokenVerifier(JwksKeys(f"{fresh.issuer}/jwks"), rules(fresh))
    assert asyncio.run(verifier.caller(sent)) == Caller(Role.SUPERVISOR, "4127")


def test_signing_out_ends_the_session_here_and_at_the_provider(fresh: FakeProvider) -> None:
    services = FakeServices()
    services.answer("/diaries/stations/cheshunt/2026-12-02", {"appointments": []})
    with TestClient(oidc_pages(fresh, services)) as client:
        sign_in_through_the_provider(client)
        page = client.get(DIARY)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        out = client.post("/sign-out", data={"csrf": token.group(1)}, follow_redirects=False)
        after = client.get(DIARY, follow_redirects=False)

    where = urlsplit(out.headers["location"])
    assert (
        out.status_code == 303 and f"{where.scheme}://{where.netloc}{where.path}" == f"{fresh.issuer}/logout"
    )
    assert parse_qs(where.query) == {
        "client_id": [CLIENT_ID], "post_logout_redirect_uri": ["http://testserver/sign-in"]
    }  # fmt: skip
    assert after.status_code == 303 and after.headers["location"].startswith("/sign-in")


def test_the_authorization_request_carries_state_nonce_and_a_pkce_challenge_never_the_verifier(
    fresh: FakeProvider,
) -> None:
    with TestClient(oidc_pages(fresh, FakeServices())) as client:
        away = client.get("/sign-in/oidc?next=%2F", follow_redirects=False)
    query = parse_qs(urlsplit(away.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert "code_verifier" not in query
    cookie = away.headers["set-cookie"]
    assert "sa_oidc=" in cookie and "HttpOnly" in cookie and "Path=/sign-in" in cookie
    assert query["code_challenge"][0] not in cookie and query["state"][0] not in cookie  # signed, not plain


@pytest.mark.parametrize(
    ("mischief", "words"),
    [
        ("forged", "could not be trusted"),
        ("nonce", "could not be trusted"),
        ("no-role", "has no role for Station Appointments"),
        ("audience", "the appointment services would not accept"),
        ("other-role", "not the same in both"),
        ("huge", "too large for these pages"),
    ],
)
def test_an_answer_the_pages_cannot_trust_or_use_signs_nobody_in(
    fresh: FakeProvider, mischief: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if mischief == "forged":
        fresh.forge_with = RSAKey.generate_key(2048, parameters={"kid": "herts-1"})
    elif mischief == "nonce":
        fresh.nonce_instead = "replayed-" + secrets.token_urlsafe(8)
    elif mischief == "no-role":
        fresh.person = fresh.person | {"roles": ["Herts.Canteen"]}
    elif mischief == "huge":
        fresh.access_extra = {"groups": [f"herts-group-{n:04d}" for n in range(200)]}
    elif mischief == "audience":
        fresh.access_audience = "graph.example"
    else:
        fresh.access_role = "admin"
    services = FakeServices()
    with TestClient(oidc_pages(fresh, services)) as client:
        refused = sign_in_through_the_provider(client)
        assert SESSION_COOKIE not in client.cookies
        still_out = client.get(DIARY, follow_redirects=False)

    assert refused.status_code == 403 and words in refused.text
    assert still_out.status_code == 303 and services.calls == []
    if mischief == "audience":  # the log says what the deployment must configure
        logged = capsys.readouterr()
        assert "APPOINTMENTS_TOKEN_AUDIENCE" in logged.out + logged.err
        assert "aud='station-appointments'" in logged.out + logged.err


def test_a_callback_not_started_in_this_browser_is_refused(fresh: FakeProvider) -> None:
    with TestClient(oidc_pages(fresh, FakeServices())) as client:
        client.get("/sign-in/oidc?next=%2F", follow_redirects=False)
        forged = client.get("/sign-in/callback?code=stolen&state=someone-elses", follow_redirects=False)
    with TestClient(oidc_pages(fresh, FakeServices())) as stranger:
        cold = stranger.get("/sign-in/callback?code=stolen&state=x", follow_redirects=False)

    assert forged.status_code == 401 and "not finished in this browser" in forged.text
    assert cold.status_code == 401 and SESSION_COOKIE not in stranger.cookies


def test_local_users_stay_the_default_when_no_provider_is_configured() -> None:
    with TestClient(pages(FakeServices())) as client:
        page = client.get("/sign-in")
        away = client.get("/sign-in/oidc", follow_redirects=False)
    assert 'name="password"' in page.text and "/sign-in/oidc" not in page.text
    assert away.status_code == 303 and away.headers["location"] == "/sign-in"


# Past an hour-long access token's expiry, and the services' leeway after it.
AFTER_THE_HOUR = 3600 + 300


class Clock:
    """The time the pages' sessions are judged by, moved on by a test (the provider keeps real time)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


def sent_token(services: FakeServices) -> str:
    """The bearer token of the pages' last call to a service."""
    return services.calls[-1].headers["authorization"].removeprefix("Bearer ")


def diary_services() -> FakeServices:
    services = FakeServices()
    services.answer("/diaries/stations/cheshunt/2026-12-02", {"appointments": []})
    return services


def test_a_page_after_the_access_token_expired_renews_it_and_works(fresh: FakeProvider) -> None:
    fresh.offline = True
    services, clock = diary_services(), Clock()
    with TestClient(oidc_pages(fresh, services, clock)) as client:
        sign_in_through_the_provider(client)
        first = client.get(DIARY)
        first_token, first_cookie = sent_token(services), client.cookies[SESSION_COOKIE]
        csrf = re.search(r'name="csrf" value="([^"]+)"', first.text)
        clock.ahead = AFTER_THE_HOUR  # the access token's hour is over
        renewed = client.get(DIARY)
        renewed_token = sent_token(services)
        clock.ahead = 0  # the renewed token's hour has just begun
        again = client.get(DIARY)

    assert first.status_code == 200 and fresh.refreshes == 1
    assert renewed.status_code == 200 and "PS 4127 Sam (supervisor)" in renewed.text
    assert renewed_token != first_token and renewed_token == fresh.issued[-1]
    assert SESSION_COOKIE in renewed.headers["set-cookie"] and "HttpOnly" in renewed.headers["set-cookie"]
    assert client.cookies[SESSION_COOKIE] != first_cookie
    # The new cookie carries the new token: the next page neither refreshes nor sends the old one.
    assert again.status_code == 200 and sent_token(services) == renewed_token and fresh.refreshes == 1
    # ... and forms opened before the refresh still carry the session's CSRF token.
    assert csrf and f'value="{csrf.group(1)}"' in again.text
    verifier = TokenVerifier(JwksKeys(f"{fresh.issuer}/jwks"), rules(fresh))
    assert asyncio.run(verifier.caller(renewed_token)) == Caller(Role.SUPERVISOR, "4127")


def test_an_access_token_within_a_minute_of_its_end_is_renewed_before_the_page_calls_a_service(
    fresh: FakeProvider,
) -> None:
    fresh.offline, fresh.access_seconds = True, 30
    services = diary_services()
    with TestClient(oidc_pages(fresh, services)) as client:
        sign_in_through_the_provider(client)
        signed_in_with = fresh.issued[-1]
        page = client.get(DIARY)

    assert page.status_code == 200 and fresh.refreshes == 1
    assert sent_token(services) == fresh.issued[-1] != signed_in_with


def test_without_a_refresh_token_the_session_ends_with_the_access_token(fresh: FakeProvider) -> None:
    services, clock = diary_services(), Clock()
    with TestClient(oidc_pages(fresh, services, clock)) as client:
        sign_in_through_the_provider(client)
        assert client.get(DIARY).status_code == 200
        clock.ahead = AFTER_THE_HOUR
        after = client.get(DIARY, follow_redirects=False)

    assert after.status_code == 303 and after.headers["location"].startswith("/sign-in?next=")
    assert fresh.refreshes == 0


@pytest.mark.parametrize("mischief", ["revoked", "provider-down", "other-role", "huge"])
def test_a_refresh_refused_or_unanswered_sends_the_person_to_sign_in_again(
    fresh: FakeProvider, mischief: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh.offline = True
    services, clock = diary_services(), Clock()
    with TestClient(oidc_pages(fresh, services, clock)) as client:
        sign_in_through_the_provider(client)
        assert client.get(DIARY).status_code == 200
        calls = len(services.calls)
        if mischief == "revoked":
            fresh.revoked |= set(fresh.refresh_tokens)
        elif mischief == "provider-down":
            fresh.down = True
        elif mischief == "huge":  # a renewed token too large for a cookie
            fresh.access_extra = {"groups": [f"herts-group-{n:04d}" for n in range(200)]}
        else:
            fresh.access_role = "admin"  # the account's role changed since signing in
        clock.ahead = AFTER_THE_HOUR
        sent_away = client.get(DIARY, follow_redirects=False)
        cookie_after = client.cookies.get(SESSION_COOKIE)
        told = client.get(sent_away.headers["location"])
        posted = client.post("/sign-out", data={"csrf": "x"}, follow_redirects=False)

    assert sent_away.status_code == 303
    where = urlsplit(sent_away.headers["location"])
    assert where.path == "/sign-in" and parse_qs(where.query) == {"next": [DIARY], "ended": ["1"]}
    assert cookie_after is None  # the session cookie is deleted
    assert told.status_code == 200 and "Your session has ended. Sign in again to carry on." in told.text
    assert len(services.calls) == calls  # nothing reached the services with the old token
    assert posted.status_code == 401 and "Sign in first" in posted.text  # signed out, not a 500
    logged = capsys.readouterr()
    assert "could not be refreshed" in logged.out + logged.err


def test_a_refresh_refused_on_a_form_answers_401_never_500(fresh: FakeProvider) -> None:
    fresh.offline = True
    services, clock = diary_services(), Clock()
    with TestClient(oidc_pages(fresh, services, clock)) as client:
        sign_in_through_the_provider(client)
        page = client.get(DIARY)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        fresh.revoked |= set(fresh.refresh_tokens)
        clock.ahead = AFTER_THE_HOUR
        out = client.post("/sign-out", data={"csrf": token.group(1)}, follow_redirects=False)

    assert out.status_code == 401 and "Your session has ended" in out.text


def test_the_session_ends_twelve_hours_after_signing_in_however_often_it_was_renewed(
    fresh: FakeProvider,
) -> None:
    fresh.offline = True
    services, clock = diary_services(), Clock()
    with TestClient(oidc_pages(fresh, services, clock)) as client:
        sign_in_through_the_provider(client)
        for hours in range(1, 12):
            clock.ahead = hours * 3600 + 300
            assert client.get(DIARY).status_code == 200, hours
        renewed = fresh.refreshes
        clock.ahead = 12 * 3600 + 1
        over = client.get(DIARY, follow_redirects=False)

    assert renewed == 11  # each hour's expired token was renewed ...
    # ... but the twelfth hour from signing in ends the session: no refresh, sign in again.
    assert over.status_code == 303 and over.headers["location"].startswith("/sign-in?next=")
    assert fresh.refreshes == 11


def test_the_refresh_token_is_sealed_in_the_cookie_never_in_clear(fresh: FakeProvider) -> None:
    fresh.offline = True
    given_before = set(fresh.refresh_tokens)
    with TestClient(oidc_pages(fresh, diary_services())) as client:
        sign_in_through_the_provider(client)
        cookie = client.cookies[SESSION_COOKIE]
    (refresh_token,) = set(fresh.refresh_tokens) - given_before

    body = cookie.split(".")[0]
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    assert refresh_token not in cookie and refresh_token not in payload
    assert refresh_token.removeprefix("rt-") not in payload
    session = Signer("a test secret").read_session(cookie)
    assert session is not None and session.refresh and session.refresh in payload
    # Only the pages' key opens it, and only for the person it was sealed for.
    assert Signer("a test secret").unseal(session.refresh, "4127") == refresh_token
    assert Signer("another secret").unseal(session.refresh, "4127") is None
    assert Signer("a test secret").unseal(session.refresh, "4188") is None


def test_requests_arriving_together_with_the_same_old_cookie_share_one_refresh(fresh: FakeProvider) -> None:
    # The provider rotates refresh tokens: a second use of the old one would be refused and sign the
    # person out, so pages opened at once (tabs restored) must not each refresh.
    settings = OidcSettings(issuer=fresh.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            role_map="Herts.Sergeant=supervisor", redirect_url=CALLBACK)  # fmt: skip
    oidc = OidcSignIn(settings, rules(fresh))
    given = fresh.refresh_token_for("4127")

    async def together() -> list[Any]:
        return list(await asyncio.gather(*(oidc.refresh(given, "4127", Role.SUPERVISOR) for _ in range(3))))

    answers = asyncio.run(together())

    assert fresh.refreshes == 1 and len({a.access_token for a in answers}) == 1
    assert answers[0].refresh_token != given and answers[0].refresh_token in fresh.refresh_tokens
