"""HTTP at the edge of every service: health, metrics, bearer-token roles, clear 4xx errors."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common import metrics
from services.common.auth import Caller, InvalidToken
from services.common.db import is_outage
from services.common.logging import correlation_id, get_logger
from services.common.roles import OPEN, RoleTable, describe, role_table, roles, spoken, unguarded
from services.common.token_keys import token_verifier

log = get_logger(__name__)

# Health probes: name -> coroutine returning None when up, or raising/returning a reason.
Probe = Callable[[], Awaitable[None]]

_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT from the identity provider (locally: `appointments token ROLE`).",
)


async def authorized(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller, when the role matrix lets their role call this operation; 401 or 403 otherwise.

    Async, like every dependency here: a plain function would cost a thread hop per request.
    """
    if credentials is None:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    try:
        # A verifier whose keys cannot be fetched raises KeysUnavailable: a 503, as any outage.
        caller = await token_verifier().caller(credentials.credentials)
    except InvalidToken as exc:
        challenge = f'Bearer error="invalid_token", error_description="{exc}"'
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": challenge}) from exc
    operation = f"{request.method} {request.scope['route'].path_format}"
    table: RoleTable | None = getattr(request.app.state, "role_table", None)
    allowed = None if table is None else table.get(operation)
    if allowed is None or (allowed != OPEN and caller.role not in allowed):
        raise HTTPException(
            403, f"role {caller.role.value} may not call {operation}; allowed: {spoken(allowed or roles())}"
        )
    return caller


# The caller of an operation the role matrix (services.common.roles) lets them call.
Authorized = Annotated[Caller, Depends(authorized)]


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def _checked_at_startup(table: RoleTable, inner: Lifespan | None) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        problems = unguarded(app, table, authorized)
        if problems:
            raise RuntimeError("the role matrix does not cover this app: " + "; ".join(problems))
        if inner is None:
            yield None
        else:
            async with inner(app) as state:
                yield state

    return lifespan


class FieldProblem(BaseModel):
    """One field of a request and why it was refused; never the value that was sent."""

    field: str = Field(description="Where the field is: its name, dotted for a nested one (caller.phone).")
    reason: str


class Problem(BaseModel):
    """Every error answer of every service: the status, a sentence, and what was wrong with which field.

    Refusals add what helps the caller further: ``code`` (the refusal's kind), ``alternatives``
    (a lost race), ``stranded`` (a county load), ``clashing_duty``, ``retry_after_seconds``.
    """

    model_config = ConfigDict(extra="allow")

    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[FieldProblem] | None = Field(default=None, description="Each field refused, and why.")
    code: str | None = Field(default=None, description="The kind of refusal, e.g. slot-taken, past.")
    retry_after_seconds: int | None = Field(default=None, description="On a 503: when to try again.")


# What every guarded operation may answer besides its own statuses.
COMMON_ERRORS: dict[str, str] = {
    "401": "No bearer token, or one that is forged, expired, not yet valid, or for another audience or "
    "issuer (header WWW-Authenticate says why).",
    "403": "The token's role may not call this operation; the detail names the roles that may.",
    "422": "The request is not valid: `errors` names each field and the reason.",
    "503": "A database, the broker or the identity provider's keys are not answering, or the service is "
    "still starting: nothing was done; try again after `retry_after_seconds`.",
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def declare_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Declare every error an operation can answer, each with the Problem body, in an OpenAPI document.

    Guarded operations (those naming roles) may answer 401, 403, 422 and 503 besides their own;
    every 4xx or 5xx declared without a body gets the Problem body, and FastAPI's own 422 body
    (which this edge never sends) gives way to it.
    """
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    field_problem = components["Problem"].pop("$defs", {}).get("FieldProblem")
    if field_problem is not None:
        components["FieldProblem"] = field_problem
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "x-roles" in operation:
                for status, description in COMMON_ERRORS.items():
                    if status != "422" or "parameters" in operation or "requestBody" in operation:
                        responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if not status.startswith(("4", "5")):
                    continue
                content = response.setdefault("content", {}).setdefault("application/json", {})
                schema = content.get("schema")
                if not schema or schema.get("$ref", "").endswith("/HTTPValidationError"):
                    content["schema"] = _PROBLEM_REF
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return document


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    """A JSON error body: the status, a sentence, and any structured extras."""
    return JSONResponse({"status": status, "detail": detail, **extra}, status_code=status)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (Starlette names only one route's)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        regex = getattr(context, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(context.methods or ())
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # The framework's only 400: a body that is not text (UTF-8) at all. Bad input: 422, as all.
        unreadable = [{"field": "body", "reason": "the body is not JSON in UTF-8"}]
        return problem(422, INVALID_REQUEST, errors=unreadable)
    if exc.status_code == 405:
        body = problem(405, f"{request.method} is not served at this path")
        body.headers["Allow"] = ", ".join(_allowed_methods(request))
        return body
    detail = exc.detail
    if isinstance(detail, dict):
        body = problem(
            exc.status_code,
            str(detail.get("detail", "the request cannot be done")),
            **{k: v for k, v in detail.items() if k != "detail"},
        )
    else:
        body = problem(exc.status_code, str(detail))
    for name, value in (exc.headers or {}).items():
        body.headers[name] = value
    return body


# The detail of a request refused by its shape (the document's schemas), before any rule is asked.
INVALID_REQUEST = "the request is not valid"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "reason": err["msg"]}
        for err in exc.errors()
    ]
    return problem(422, INVALID_REQUEST, errors=errors)


class Health(BaseModel):
    """Whether the service and each dependency it needs answer."""

    service: str
    status: str = Field(pattern="^(up|down)$")
    checks: dict[str, str] = Field(description="Each dependency: up, or down with why.")


# How long a caller is asked to wait when a database or broker is down.
RETRY_AFTER_SECONDS = 2


class Correlate:
    """Correlation ids, request metrics, a 500 body for the unforeseen, and which process answered.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware costs a task and a stream per request.
    """

    def __init__(self, app: ASGIApp, served_by: str) -> None:
        self.app = app
        # Which process answered: a service may run several workers on one port.
        self.served_by = served_by.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = Headers(scope=scope).get("x-correlation-id") or str(uuid.uuid4())
        token = correlation_id.set(cid)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_marked(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                headers = list(message.get("headers", []))
                extra = [(b"x-correlation-id", cid.encode()), (b"x-served-by", self.served_by)]
                # Answers carry briefings, diaries and sealed personal data: no cache keeps any.
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_marked)
        except Exception as exc:
            if responded:
                raise
            if is_outage(exc):
                # A database or broker not answering: nothing was decided, so the caller may retry.
                log.warning("dependency down", path=scope.get("path"), error=type(exc).__name__)
                body = problem(
                    503, "a server this service needs is not answering: try again shortly",
                    retry_after_seconds=RETRY_AFTER_SECONDS,
                )  # fmt: skip
                body.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
            else:
                log.exception("unhandled error", path=scope.get("path"))
                body = problem(500, "internal error; the correlation id identifies it in the logs")
            await body(scope, receive, send_marked)
        finally:
            correlation_id.reset(token)
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


def create_http_app(
    service: str, probes: dict[str, Probe], *, roles: RoleTable | None = None, **fastapi_kwargs: Any
) -> FastAPI:
    """A FastAPI app with /health, /metrics, correlation ids, request metrics and 422 bodies.

    A service of the role matrix (or one given ``roles``) refuses to start while a route of
    it is not covered, and its OpenAPI document names each operation's roles.
    """
    table = roles if roles is not None else role_table(service)
    if table is not None:
        fastapi_kwargs["lifespan"] = _checked_at_startup(table, fastapi_kwargs.get("lifespan"))
    app = FastAPI(title=f"Station Appointments: {service}", **fastapi_kwargs)
    app.state.role_table = table
    if table is not None:
        generate = app.openapi

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                app.openapi_schema = declare_errors(describe(generate(), table))
            return app.openapi_schema

        app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Starlette's own (405, 404 for no route) as well as FastAPI's, which is one of them.
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(Correlate, served_by=str(os.getpid()))

    @app.get(
        "/health",
        tags=["operations"],
        response_model=Health,
        responses={503: {"model": Health, "description": "A dependency is down: `checks` names it."}},
    )
    async def health() -> JSONResponse:
        """200 when every dependency answers, 503 naming the ones that do not."""
        status: dict[str, str] = {}
        for name, probe in probes.items():
            try:
                await probe()
                status[name] = "up"
            except Exception as exc:
                status[name] = f"down: {type(exc).__name__}: {exc}"[:200]
        healthy = all(v == "up" for v in status.values())
        return JSONResponse(
            {"service": service, "status": "up" if healthy else "down", "checks": status},
            status_code=200 if healthy else 503,
        )

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


# The code of every 404: a station, district, diary car, officer or appointment nobody knows.
NOT_FOUND = "not-found"
# Longer ids, or ids holding control characters, name nothing any service keeps.
_IMPLAUSIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_ID_LENGTH = 200


def plausible_id(value: str) -> bool:
    """Whether an id from a path could name something kept (else it is unknown without a lookup)."""
    return len(value) <= MAX_ID_LENGTH and _IMPLAUSIBLE.search(value) is None


def not_found(field: str, reason: str) -> JSONResponse:
    """The one 404 body of every service: the field whose id is unknown, and the reason."""
    return problem(404, reason, errors=[{"field": field, "reason": reason}], code=NOT_FOUND)


def unknown(field: str, reason: str) -> HTTPException:
    """``not_found`` to raise (from a dependency or a helper)."""
    return HTTPException(
        404, detail={"detail": reason, "errors": [{"field": field, "reason": reason}], "code": NOT_FOUND}
    )


def field_error(field: str, reason: str, status: int = 422) -> HTTPException:
    """An HTTPException whose body names the field and the reason."""
    return HTTPException(status, detail={"errors": [{"field": field, "reason": reason}]})
