"""HTTP at the edge of every service: health, metrics, bearer-token roles, clear 4xx errors."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers
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


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    """A JSON error body: the status, a sentence, and any structured extras."""
    return JSONResponse({"status": status, "detail": detail, **extra}, status_code=status)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    if isinstance(detail, dict):
        body = problem(exc.status_code, str(detail.get("detail", "the request cannot be done")), **{
            k: v for k, v in detail.items() if k != "detail"
        })
    else:
        body = problem(exc.status_code, str(detail))
    for name, value in (exc.headers or {}).items():
        body.headers[name] = value
    return body


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "reason": err["msg"]}
        for err in exc.errors()
    ]
    return problem(422, "the request is not valid", errors=errors)


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
            return describe(generate(), table)

        app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(Correlate, served_by=str(os.getpid()))

    @app.get("/health", tags=["operations"])
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

    @app.get("/metrics", tags=["operations"])
    async def prometheus() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def field_error(field: str, reason: str, status: int = 422) -> HTTPException:
    """An HTTPException whose body names the field and the reason."""
    return HTTPException(status, detail={"errors": [{"field": field, "reason": reason}]})
