"""The role matrix, checked against every operation each service's OpenAPI document publishes.

Each service's app is built in-process (no servers: a call the matrix allows then fails
later, with 503 or 422, which is fine here) and every operation is called with no token,
tokens that must be refused (forged, expired, not yet valid, for another audience, from
another issuer) and a token of each role: 401, 401, ... and then 403 exactly where the
matrix says the role may not call it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from services.booking.main import create_app as booking_app
from services.common.auth import Role, TokenRules, issue_token
from services.common.config import PROJECT_ROOT
from services.common.http import Authorized, authorized, create_http_app
from services.common.roles import OPEN, ROLE_MATRIX, markdown, role_table, roles, unguarded
from services.common.token_keys import local_issuer
from services.notifications.main import create_app as notifications_app
from services.projections.main import create_app as projections_app
from services.roster.main import create_app as roster_app

BUILDERS: dict[str, Callable[[], FastAPI]] = {
    "booking": booking_app,
    "roster": roster_app,
    "notifications": notifications_app,
    "projections": projections_app,
}
SAMPLE_DAY = "2026-12-02"


class _DatabaseDown:
    """What a service's pool does while its database is down: refuse the connection."""

    def acquire(self) -> Any:
        raise ConnectionRefusedError("no database in a unit test")


@cache
def app_of(service: str) -> FastAPI:
    """The service's app, built once, never started: its database is down (an allowed call is a 503)."""
    app = BUILDERS[service]()
    app.state.runtime.pool = _DatabaseDown()
    return app


def published() -> list[tuple[str, str, str]]:
    """(service, method, path) of every operation in every service's OpenAPI document."""
    return [
        (service, method.upper(), path)
        for service in BUILDERS
        for path, item in app_of(service).openapi()["paths"].items()
        for method in item
    ]


def concrete(service: str, method: str, path: str) -> str:
    """The path with each path parameter filled in with a value of its type."""
    parameters = app_of(service).openapi()["paths"][path][method.lower()].get("parameters", [])
    dates = {p["name"] for p in parameters if p["in"] == "path" and p["schema"].get("format") == "date"}
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_DAY if m[1] in dates else "x1", path)


def _rules(**changes: str) -> TokenRules:
    rules = local_issuer().rules
    return TokenRules(
        changes.get("issuer", rules.issuer), changes.get("audience", rules.audience), rules.algorithms
    )


def refused_tokens() -> dict[str, str]:
    """Tokens every protected operation must answer 401, by what is wrong with them."""
    issuer = local_issuer()
    hour = timedelta(hours=1)
    return {
        "forged": issue_token(Role.ADMIN, "mallory", Ed25519PrivateKey.generate(), issuer.rules, hour),
        "expired": issuer.token(Role.ADMIN, "t", hour, now=datetime.now(UTC) - 2 * hour),
        "not yet valid": issuer.token(Role.ADMIN, "t", hour, now=datetime.now(UTC) + hour),
        "another audience": issue_token(Role.ADMIN, "t", issuer.key, _rules(audience="elsewhere"), hour),
        "another issuer": issue_token(
            Role.ADMIN, "t", issuer.key, _rules(issuer="https://evil.example"), hour
        ),
        "not a JWT": "sa1.eyJyb2xlIjoiYWRtaW4ifQ.c2ln",
    }


@pytest.fixture(scope="module")
async def clients() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One in-process client per service."""
    made = {
        service: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app_of(service), raise_app_exceptions=False),
            base_url=f"http://{service}.test",
        )
        for service in BUILDERS
    }
    yield made
    for client in made.values():
        await client.aclose()


async def _call(client: httpx.AsyncClient, method: str, url: str, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    return await client.request(method, url, headers=headers)


@pytest.mark.parametrize(("service", "method", "path"), published())
async def test_every_operation_answers_as_the_matrix_says(
    clients: dict[str, httpx.AsyncClient], service: str, method: str, path: str
) -> None:
    allowed = (role_table(service) or {}).get(f"{method} {path}")
    assert allowed is not None, f"{method} {path} of {service} is published but not in the role matrix"
    client, url = clients[service], concrete(service, method, path)
    if allowed == OPEN:
        assert (await _call(client, method, url, None)).status_code not in (401, 403)
        return
    missing = await _call(client, method, url, None)
    assert missing.status_code == 401, missing.text
    assert missing.json()["detail"] == "a bearer token is required"
    for why, token in refused_tokens().items():
        refused = await _call(client, method, url, token)
        assert refused.status_code == 401, f"{why}: {refused.text}"
        assert refused.headers["www-authenticate"].startswith("Bearer")
    for role in Role:
        answer = await _call(client, method, url, local_issuer().token(role, "t"))
        if role in allowed:
            assert answer.status_code not in (401, 403), f"{role}: {answer.text}"
        else:
            assert answer.status_code == 403, f"{role}: {answer.text}"
            assert f"role {role.value} may not call {method} {path}" in answer.json()["detail"]


def test_every_route_of_every_service_is_in_the_matrix_and_checks_it() -> None:
    for service in BUILDERS:
        table = role_table(service)
        assert table is not None
        assert unguarded(app_of(service), table, authorized) == [], service


def test_the_matrix_names_no_operation_a_service_does_not_serve() -> None:
    served = {(service, f"{method} {path}") for service, method, path in published()}
    for service, table in ROLE_MATRIX.items():
        for operation in table:
            assert (service, operation) in served, f"{service}: {operation} is not served"


def test_each_operation_names_its_roles_in_the_openapi_document() -> None:
    for service, method, path in published():
        operation = app_of(service).openapi()["paths"][path][method.lower()]
        allowed = (role_table(service) or {})[f"{method} {path}"]
        if allowed == OPEN:
            assert "x-roles" not in operation
            continue
        assert operation["x-roles"] == [role.value for role in Role if role in allowed]
        assert operation["description"].endswith("Roles: " + ", ".join(operation["x-roles"]) + ".")


def test_the_readme_shows_the_matrix_as_the_module_renders_it() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    shown = re.search(r"<!-- role-matrix -->\n(.*?)<!-- /role-matrix -->", readme, re.S)
    assert shown is not None, "README.md has no role-matrix block"
    assert shown[1] == markdown(), "README's role table is stale: paste services.common.roles.markdown()"


def test_what_the_issue_found_inconsistent_now_follows_the_contract_and_readme() -> None:
    booking, roster = ROLE_MATRIX["booking"], ROLE_MATRIX["roster"]
    assert Role.OFFICER not in booking["GET /waitlist/{appointment_id}"]  # call takers and supervisors
    assert Role.AUDITOR in roster["GET /duties"]  # all readers, like the diaries
    assert booking["GET /waitlist/{appointment_id}"] == booking["POST /waitlist"]
    assert roster["GET /duties"] == ROLE_MATRIX["projections"]["GET /diaries/stations/{station_id}/{day}"]


def _app_with(table: dict[str, Any]) -> FastAPI:
    app = create_http_app("test", {}, roles=table)

    @app.get("/guarded")
    async def guarded(caller: Authorized) -> str:
        return caller.actor

    @app.get("/unguarded")
    async def unguarded_route() -> str:
        return "open to anyone"

    return app


async def test_a_service_does_not_start_while_a_route_is_missing_from_the_matrix() -> None:
    app = _app_with({"GET /guarded": roles(Role.OFFICER)})
    with pytest.raises(RuntimeError, match="GET /unguarded has no entry in the role matrix"):
        async with app.router.lifespan_context(app):
            pass


async def test_a_service_does_not_start_while_a_route_given_roles_does_not_check_them() -> None:
    app = _app_with({"GET /guarded": roles(Role.OFFICER), "GET /unguarded": roles(Role.OFFICER)})
    with pytest.raises(RuntimeError, match="GET /unguarded is given roles in the matrix but does not check"):
        async with app.router.lifespan_context(app):
            pass


async def test_an_operation_missing_from_the_matrix_is_refused_to_every_role() -> None:
    app = _app_with({"GET /unguarded": OPEN})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for role in Role:
            answer = await _call(client, "GET", "/guarded", local_issuer().token(role, "t"))
            assert answer.status_code == 403
            assert answer.json()["detail"].endswith("allowed: nobody")
