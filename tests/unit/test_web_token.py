"""The pages' own supervisor token: short-lived, accepted by the services, renewed while they run."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from services.common.auth import Caller, Role
from services.common.reference import load_county
from services.common.token_keys import read_local_token
from web import app as web


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("no services in this test", request=request)


def test_the_pages_token_is_a_short_lived_supervisor_token_the_services_accept() -> None:
    claims = jwt.decode(web.pages_token(), options={"verify_signature": False})
    assert read_local_token(web.pages_token()) == Caller(Role.SUPERVISOR, web.TOKEN_SUBJECT)
    assert claims["exp"] - claims["iat"] == web.PAGES_TOKEN_TTL.total_seconds() <= 3600


def test_the_pages_renew_their_token_before_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "PAGES_TOKEN_TTL", timedelta(seconds=2))
    app = web.create_app(httpx.MockTransport(_refuse), county=load_county())
    first = app.state.pages.backends.token
    with TestClient(app):
        deadline = time.monotonic() + 10
        while app.state.pages.backends.token == first and time.monotonic() < deadline:
            time.sleep(0.1)
    renewed = app.state.pages.backends.token
    assert renewed != first
    assert read_local_token(renewed) == Caller(Role.SUPERVISOR, web.TOKEN_SUBJECT)
