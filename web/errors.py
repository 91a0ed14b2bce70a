"""Error pages: what went wrong and what to do, in words, never a stack trace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.logging import correlation_id, get_logger
from web.backends import BackendError
from web.rendering import render
from web.words import sentence

log = get_logger(__name__)

# Paths that answer machines, not people: their errors stay JSON.
MACHINE_PATHS = ("/health", "/metrics", "/openapi.json", "/docs", "/redoc", "/static/")
SERVICE_WORDS = {
    "projections": "the diaries and history service (projections)",
    "booking": "the booking service",
    "roster": "the roster service",
}
TRY_AGAIN = (
    "Try again in a few minutes. If it keeps happening, tell the service desk and give them "
    "the reference below."
)


def error_page(
    request: Request,
    status: int,
    title: str,
    *paragraphs: str,
    back: str | None = None,
    reference: str | None = None,
) -> HTMLResponse:
    """A page that says what went wrong and what to do, with a reference for the service desk."""
    return render(
        request,
        "error.html",
        status=status,
        title=title,
        paragraphs=paragraphs,
        back=back,
        reference=reference or correlation_id.get(),
    )


def backend_error_page(request: Request, exc: BackendError, what: str) -> HTMLResponse:
    """A page for a service that is down or refused: never a stack trace."""
    name = SERVICE_WORDS.get(exc.service, exc.service)
    log.warning("service call failed", backend=exc.service, status=exc.status, detail=exc.detail)
    if exc.status is None:
        title = f"Sorry, {what} is not available just now"
        return error_page(request, 503, title, f"{sentence(name)} {exc.detail}.", TRY_AGAIN, back="/")
    if exc.status == 404:
        return error_page(request, 404, "Not found", f"{sentence(name)} says: {exc.detail}.")
    if exc.status == 403:
        # The signed-in person's role may not see this: the services' role matrix is the pages'.
        return error_page(
            request, 403, "You cannot see this", f"{sentence(name)} says: {exc.detail}.", back="/"
        )
    if exc.status == 401:
        return error_page(
            request,
            502,
            f"The pages could not sign in to {name}",
            f"It answered {exc.status}: {exc.detail}.",
            "The web pages and the services must trust the same token keys; tell the service desk.",
        )
    if exc.status < 500:
        return error_page(request, exc.status, f"{sentence(name)} could not answer this", f"{exc.detail}.")
    return error_page(
        request,
        503 if exc.status == 503 else 502,
        f"Sorry, there is a problem with {name}",
        f"It answered {exc.status}: {exc.detail}.",
        TRY_AGAIN,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        why = "Check the address, or start again from the county page."
        return error_page(request, 404, "Page not found", why, back="/")
    return error_page(request, exc.status_code, "This cannot be done", str(exc.detail), back="/")


async def _friendly_failures(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    # The shared middleware answers an unexpected error with JSON; people get a page instead.
    response = await call_next(request)
    if response.status_code == 500 and not request.url.path.startswith(MACHINE_PATHS):
        reference = response.headers.get("x-correlation-id")
        title = "Sorry, there is a problem with the pages"
        page = error_page(request, 500, title, TRY_AGAIN, back="/", reference=reference)
        if reference:
            page.headers["x-correlation-id"] = reference
        return page
    return response


def add_error_pages(app: FastAPI) -> None:
    """Answer people with pages: unknown addresses, and unexpected failures instead of JSON."""
    # Unknown addresses get a page; the services' own JSON errors (fastapi's HTTPException) are kept.
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.middleware("http")(_friendly_failures)
