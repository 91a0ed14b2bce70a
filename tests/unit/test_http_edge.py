"""The HTTP edge every service shares: correlation ids, the process that answered, 500 bodies, roles."""

from __future__ import annotations

import os

import httpx
from fastapi import FastAPI

from services.common.auth import Role
from services.common.http import Authorized, create_http_app
from services.common.logging import correlation_id
from services.common.roles import OPEN, RoleTable, roles
from services.common.token_keys import local_issuer

# This app's own role matrix: the services' is services.common.roles.ROLE_MATRIX.
ROLES: RoleTable = {"GET /echo": roles(Role.OFFICER), "GET /boom": OPEN}


def _app() -> FastAPI:
    app = create_http_app("test", {}, roles=ROLES)

    @app.get("/echo")
    async def echo(caller: Authorized) -> dict[str, str]:
        return {"correlation_id": correlation_id.get() or "", "actor": caller.actor}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    return app


async def _get(path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


def _bearer(role: Role) -> str:
    return f"Bearer {local_issuer().token(role, 'u1')}"


async def test_the_correlation_id_is_carried_through_the_request_and_echoed() -> None:
    response = await _get("/echo", authorization=_bearer(Role.OFFICER), **{"x-correlation-id": "call-9"})
    assert response.status_code == 200
    assert response.json() == {"correlation_id": "call-9", "actor": "officer:u1"}
    assert response.headers["x-correlation-id"] == "call-9"
    assert response.headers["x-served-by"] == str(os.getpid())
    assert response.headers["cache-control"] == "no-store"  # briefings and diaries are never cached


async def test_a_request_without_one_gets_a_fresh_correlation_id() -> None:
    response = await _get("/echo", authorization=_bearer(Role.OFFICER))
    assert response.json()["correlation_id"] == response.headers["x-correlation-id"] != ""


async def test_an_unforeseen_error_is_a_500_body_naming_the_correlation_id_not_a_stack_trace() -> None:
    response = await _get("/boom", **{"x-correlation-id": "call-10"})
    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "detail": "internal error; the correlation id identifies it in the logs",
    }
    assert response.headers["x-correlation-id"] == "call-10"


async def test_roles_are_checked_without_a_thread_hop_and_refused_clearly() -> None:
    assert (await _get("/echo")).status_code == 401
    forbidden = await _get("/echo", authorization=_bearer(Role.GATEWAY))
    assert forbidden.status_code == 403 and "gateway" in forbidden.json()["detail"]


def _failing_app(error: BaseException) -> FastAPI:
    app = create_http_app("test", {})

    @app.get("/down")
    async def down() -> None:
        raise error

    return app


async def test_a_database_or_broker_not_answering_is_a_503_with_a_retry_hint_never_a_500() -> None:
    import asyncpg

    for error in (ConnectionRefusedError(), TimeoutError(), asyncpg.CannotConnectNowError("starting")):
        transport = httpx.ASGITransport(app=_failing_app(error), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/down")
        assert response.status_code == 503, type(error).__name__
        assert response.headers["retry-after"] == "2"
        assert response.json()["retry_after_seconds"] == 2
