"""The web pages' app: server-rendered HTML over the projections, booking and roster services' HTTP APIs.

The pages hold no state of their own. People sign in (web.sign_in, or the force's identity
provider through web.oidc); every diary, free slot, history and duty comes from the services
over HTTP with the signed-in person's own token,
so what the services refuse a role, the pages refuse it too. When a service is down or
refuses, the page says so in plain words instead of failing.
This module only wires the pieces together and routes addresses to the page handlers.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlencode

import httpx
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from services.common.config import settings
from services.common.http import create_http_app
from services.common.logging import get_logger
from services.common.reference import County, load_county
from services.common.token_keys import rules_of
from web.backends import BACKEND_TIMEOUT, BACKENDS, PROBED, Backends, service_url
from web.errors import add_error_pages, error_page
from web.london_input import AsAt, resolve_as_at
from web.oidc import REFRESH_MARGIN, SESSION_ENDED, OidcSettings, OidcSignIn, Pending, SignInRefused
from web.pages import (
    Pages,
    access_log,
    attendance,
    book,
    change,
    figures,
    find,
    officers_day,
    roster,
    waitlist,
)
from web.rendering import GOVUK_ASSETS, GOVUK_FRONTEND, STATIC, govuk_frontend_installed, render
from web.sign_in import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_LIMIT,
    SESSION_TTL,
    Session,
    Signer,
    Tokens,
    Users,
    caller_token,
    ensure_local_users,
    safe_next,
    signer_of,
    users_path,
)
from web.staff import name_me

SERVICE = "web"
# The OpenID Connect sign-in's state, nonce and PKCE verifier between its two legs (ten minutes).
OIDC_COOKIE = "sa_oidc"
# Browsers keep cookies of up to 4,096 bytes with their name and attributes; leave room for those.
COOKIE_LIMIT = 3800
log = get_logger(__name__)
# Addresses anyone may reach: signing in, the statements, styles, scripts, fonts, and the probes.
ASSET_PATHS = ("/static/", "/govuk-frontend/", "/assets/")
OPEN_PATHS = ("/sign-in", "/accessibility", "/privacy", *ASSET_PATHS, "/health", "/metrics")
# Styles, scripts, fonts and images hold no personal data: a browser may keep them for an hour.
ASSET_CACHE = "public, max-age=3600"


def _as_at(
    at: str | None = None,
    at_date: str | None = None,
    at_time: str | None = None,
    day: str = Query("", alias="at-day"),
    month: str = Query("", alias="at-month"),
    year: str = Query("", alias="at-year"),
) -> AsAt:
    """The diary pages' 'as it stood at' query: an ``at`` instant, or a London date and time."""
    return resolve_as_at(at, at_date, at_time, (day, month, year))


def _days(
    first: str | None = Query(None, alias="from"), last: str | None = Query(None, alias="to")
) -> tuple[str | None, str | None]:
    """The free-slot pages' range of days, as typed."""
    return first, last


def create_app(
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    urls: Mapping[str, str] | None = None,
    county: County | None = None,
    now: Callable[[], datetime] | None = None,
    users: Users | None = None,
    signer: Signer | None = None,
    oidc: OidcSignIn | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The web pages' ASGI app; tests pass a fake ``transport`` instead of the real services, and may
    pass the ``clock`` sessions are timed by."""
    cfg = settings()
    provider = OidcSettings()
    if oidc is None and provider.enabled:
        oidc = OidcSignIn(provider, rules_of(cfg))
    if users is None and oidc is not None:
        users = Users({})  # the force's accounts only: no local users are made or offered
    if users is None:
        ensure_local_users(cfg)
        users = Users.load(users_path(cfg))
    signer = signer or signer_of(cfg)
    tokens = Tokens()
    backends = Backends(
        client=httpx.AsyncClient(transport=transport, timeout=BACKEND_TIMEOUT),
        urls={name: service_url(name) for name in BACKENDS} | dict(urls or {}),
    )
    pages = Pages(county or load_county(), backends, now or (lambda: datetime.now(UTC)))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await backends.client.aclose()

    def probe(service: str) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            await backends.probe(service)

        return check

    app = create_http_app(SERVICE, {name: probe(name) for name in PROBED}, lifespan=lifespan)
    app.state.pages = pages
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if not govuk_frontend_installed():
        # The pages still work unstyled; the bootstrap (npm ci in web/) installs the package.
        log.error("GOV.UK Frontend is not installed: run make bootstrap", looked_in=str(GOVUK_FRONTEND))
    app.mount(
        "/govuk-frontend", StaticFiles(directory=GOVUK_FRONTEND, check_dir=False), name="govuk-frontend"
    )
    app.mount("/assets", StaticFiles(directory=GOVUK_ASSETS, check_dir=False), name="govuk-assets")
    add_error_pages(app)

    @app.middleware("http")
    async def cache_assets(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Assets may be cached; everything else keeps the services' `no-store` (personal data)."""
        response = await call_next(request)
        if request.url.path.startswith(ASSET_PATHS) and response.status_code == 200:
            response.headers["cache-control"] = ASSET_CACHE
        return response

    @app.middleware("http")
    async def signed_in(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Every page but the open ones needs a signed-in person; their token goes to the services."""
        path = request.url.path
        if path.startswith(ASSET_PATHS):
            return await call_next(request)
        session = signer.read_session(request.cookies.get(SESSION_COOKIE), clock())
        if path.startswith(OPEN_PATHS):
            if session is not None:
                request.state.session = session  # the header still says who is signed in
            return await call_next(request)
        if session is None:
            if request.method != "GET":
                return error_page(request, 401, "Sign in first", "Your session has ended: sign in again.")
            wanted = path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/sign-in?next={quote(wanted, safe='')}", status_code=303)
        renewed: str | None = None
        if needs_refresh(session):
            try:
                session, renewed = await refreshed(session)
            except SignInRefused as exc:
                log.warning("the session's access token could not be refreshed", why=exc.why)
                ended: Response
                if request.method != "GET":
                    ended = error_page(request, 401, "Sign in again", SESSION_ENDED)
                else:
                    wanted = path + (f"?{request.url.query}" if request.url.query else "")
                    ended = RedirectResponse(f"/sign-in?{urlencode({'next': wanted, 'ended': '1'})}", 303)
                ended.delete_cookie(SESSION_COOKIE)
                return ended
        request.state.session = session
        token = caller_token.set(tokens.for_session(session))
        try:
            response = await call_next(request)
        finally:
            caller_token.reset(token)
        if renewed is not None:
            set_session_cookie(response, renewed, session.expires_at)
        return response

    def needs_refresh(session: Session) -> bool:
        """Whether the session's access token is near its end (or past it) and can be renewed."""
        until = session.token_expires_at
        return bool(oidc and session.token and session.refresh and until is not None
                    and until - REFRESH_MARGIN <= clock())  # fmt: skip

    async def refreshed(session: Session) -> tuple[Session, str]:
        """The session with a renewed access token, and its cookie (the same CSRF token and end)."""
        assert oidc is not None
        refresh = signer.unseal(session.refresh, session.username)
        if refresh is None:
            raise SignInRefused(SESSION_ENDED, "the session's refresh token could not be unsealed")
        renewed = await oidc.refresh(refresh, session.username, session.role)
        found = signer.session_for(
            session.username, session.role, session.name, session.expires_at, renewed.access_token,
            refresh=renewed.refresh_token, token_expires_at=int(renewed.expires_at), csrf=session.csrf,
        )  # fmt: skip
        if len(found[1]) > COOKIE_LIMIT:  # the browser would drop it and keep the old, expired one
            raise SignInRefused(
                SESSION_ENDED, f"the refreshed session is too large for a cookie ({len(found[1])})"
            )
        return found

    async def name_in_roster(token: str, name: str) -> None:
        """The roster's staff directory told the name the person signed in with (web.staff)."""
        if await name_me(backends, token, name):
            pages.officers.forget_staff()

    def set_session_cookie(response: Response, cookie: str, expires_at: int) -> None:
        response.set_cookie(SESSION_COOKIE, cookie, max_age=max(1, expires_at - int(clock())), httponly=True,
                            samesite="lax", secure=cfg.is_production)  # fmt: skip

    def sign_in_form(request: Request, status: int = 200, problem: str | None = None) -> Response:
        if problem is None and request.query_params.get("ended") and request.method == "GET":
            problem = SESSION_ENDED  # a session that could not be renewed (fixed words, never the query's)
        csrf, cookie = signer.csrf_pair()
        target = safe_next(request.query_params.get("next"))
        oidc_url = f"/sign-in/oidc?{urlencode({'next': target})}"
        response = render(request, "sign_in.html", status, title="Sign in", csrf=csrf, next=target,
                          problem=problem, oidc=oidc is not None, oidc_url=oidc_url)  # fmt: skip
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict", secure=cfg.is_production)
        return response

    async def form_of(request: Request) -> dict[str, str]:
        fields = parse_qs((await request.body()).decode(errors="replace"), max_num_fields=10)
        return {name: values[0] for name, values in fields.items()}

    @app.get("/sign-in", response_class=HTMLResponse, tags=["sign-in"], name="sign_in_page")
    async def sign_in_page(request: Request) -> Response:
        """The sign-in form."""
        return sign_in_form(request)

    def callback_url(request: Request) -> str:
        assert oidc is not None
        return oidc.settings.redirect_url or str(request.url_for("oidc_callback"))

    @app.get("/sign-in/oidc", tags=["sign-in"])
    async def oidc_start(request: Request) -> Response:
        """Send the person to the force's identity provider (authorization code flow with PKCE)."""
        if oidc is None:
            return RedirectResponse("/sign-in", status_code=303)
        try:
            url, pending = await oidc.start(
                callback_url(request), safe_next(request.query_params.get("next"))
            )
        except SignInRefused as exc:
            log.warning("sign-in through the identity provider refused", why=exc.why)
            return sign_in_form(request, 503, exc.words)
        response = RedirectResponse(url, status_code=303)
        # Lax, not strict: the provider sends the person back here by a top-level GET from its own site.
        response.set_cookie(OIDC_COOKIE, signer.sign(asdict(pending)), max_age=600, httponly=True,
                            samesite="lax", secure=cfg.is_production, path="/sign-in")  # fmt: skip
        return response

    @app.get("/sign-in/callback", name="oidc_callback", tags=["sign-in"])
    async def oidc_callback(request: Request) -> Response:
        """The provider's answer: check it, and start the session with the provider's access token."""
        if oidc is None:
            return RedirectResponse("/sign-in", status_code=303)
        remembered = signer.read(request.cookies.get(OIDC_COOKIE))
        try:
            pending = Pending(**remembered) if isinstance(remembered, dict) else None
        except TypeError:
            pending = None
        state, code = request.query_params.get("state", ""), request.query_params.get("code", "")
        if pending is None or pending.expires_at < time.time():
            return sign_in_form(request, 401, "Signing in took too long or was started elsewhere: try again.")
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            log.warning("sign-in through the identity provider refused", why="the state does not match")
            return sign_in_form(request, 401, "Signing in was not finished in this browser: try again.")
        if request.query_params.get("error") or not code:
            # The provider's own error code (access_denied, ...): no personal data in it.
            log.warning(
                "the identity provider answered with an error", error=request.query_params.get("error")
            )
            return sign_in_form(request, 401, "The force's sign-in service did not sign you in. Try again.")
        try:
            person = await oidc.finish(code, pending, callback_url(request))
        except SignInRefused as exc:
            log.warning("sign-in through the identity provider refused", why=exc.why)
            return sign_in_form(request, 403, exc.words)
        now = clock()
        if person.refresh_token:
            # Renewed as it nears its end (see needs_refresh), up to the limit from signing in.
            expires = int(now + SESSION_LIMIT.total_seconds())
        else:
            expires = int(min(now + SESSION_TTL.total_seconds(), person.expires_at))
        _, cookie = signer.session_for(
            person.subject, person.role, person.name, expires, person.access_token,
            refresh=person.refresh_token, token_expires_at=int(person.expires_at),
        )  # fmt: skip
        if len(cookie) > COOKIE_LIMIT:
            # A browser drops a larger cookie without a word, and the person would loop through sign-in.
            log.warning("the provider's access token is too large for the session cookie", size=len(cookie))
            words = "Your account's sign-in token is too large for these pages. Tell the service desk."
            return sign_in_form(request, 403, words)
        if person.name != person.subject:  # the provider gave a name (else there is none to record)
            await name_in_roster(person.access_token, person.name)
        response = RedirectResponse(pending.next_page, status_code=303)
        set_session_cookie(response, cookie, expires)
        response.delete_cookie(OIDC_COOKIE, path="/sign-in")
        return response

    @app.post("/sign-in", response_class=HTMLResponse, tags=["sign-in"])
    async def sign_in(request: Request) -> Response:
        """Check the user name and password; on success, a session and the page asked for."""
        if oidc is not None:
            return sign_in_form(request, 403, "Sign in with your force account.")
        form = await form_of(request)
        if not signer.csrf_matches(request.cookies.get(CSRF_COOKIE), form.get("csrf", "")):
            return error_page(request, 403, "The form has expired", "Open the sign-in page again and retry.")
        user = users.check(form.get("username", "").strip(), form.get("password", ""))
        if user is None:
            return sign_in_form(request, 401, "The user name or the password is not right.")
        session, cookie = signer.session(user)
        await name_in_roster(tokens.for_session(session), user.name)
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        response.set_cookie(
            SESSION_COOKIE, cookie, max_age=int(SESSION_TTL.total_seconds()), httponly=True,
            samesite="lax", secure=cfg.is_production,
        )  # fmt: skip
        response.delete_cookie(CSRF_COOKIE)
        return response

    @app.post("/sign-out", tags=["sign-in"])
    async def sign_out(request: Request) -> Response:
        """End the session (its form carries the session's CSRF token)."""
        form = await form_of(request)
        if form.get("csrf") != request.state.session.csrf:
            return error_page(request, 403, "The form has expired", "Reload the page and sign out again.")
        target = "/sign-in"
        if oidc is not None and request.state.session.token:
            # Signed out at the provider too, or its sign-in would let the next person straight back in.
            target = await oidc.sign_out_url(str(request.url_for("sign_in_page"))) or target
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/accessibility", response_class=HTMLResponse, tags=["statements"])
    async def accessibility_statement(request: Request) -> HTMLResponse:
        """The accessibility statement (open to anyone)."""
        return render(request, "accessibility.html", title="Accessibility statement")

    @app.get("/privacy", response_class=HTMLResponse, tags=["statements"])
    async def privacy_notice(request: Request) -> HTMLResponse:
        """The privacy notice (open to anyone)."""
        return render(request, "privacy.html", title="Privacy notice")

    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    async def county_page(request: Request) -> HTMLResponse:
        """The county: districts, their appointment stations and diary cars."""
        return await pages.county_page(request)

    @app.post("/", response_class=HTMLResponse, tags=["pages"])
    async def county_postcode(request: Request) -> HTMLResponse:
        """The county page with the place a caller's postcode finds (POST: no postcode in an address)."""
        return await pages.county_page(request, await form_of(request))

    @app.get("/book", tags=["booking"])
    async def book_start(request: Request) -> Response:
        """Booking starts from the county page, where each station and district has its links."""
        return RedirectResponse("/#booking", status_code=303)

    @app.get("/book/stations/{station_id}", response_class=HTMLResponse, tags=["booking"])
    async def book_at_station(request: Request, station_id: str) -> HTMLResponse:
        """Step 1 at a station: the incident's grade, then one of its free slots."""
        return await book.slot_page(pages, request, "station", station_id)

    @app.get("/book/diary-cars/{district_id}", response_class=HTMLResponse, tags=["booking"])
    async def book_home_visit(request: Request, district_id: str) -> HTMLResponse:
        """Step 1 for a home visit: the incident's grade, then one of the diary car's free windows."""
        return await book.slot_page(pages, request, "diary-car", district_id)

    @app.get("/book/districts/{district_id}", response_class=HTMLResponse, tags=["booking"])
    async def book_earliest(request: Request, district_id: str) -> HTMLResponse:
        """Step 1 across a district: the grade, then the earliest free slots at its stations and diary car."""
        return await book.slot_page(pages, request, None, district_id)

    @app.post("/book/slot", tags=["booking"])
    async def book_slot(request: Request) -> Response:
        """Step 1 sent: an urgent or priority grade is stopped here; otherwise on to the details."""
        return await book.pick_slot(pages, request)

    @app.get("/book/details", response_class=HTMLResponse, tags=["booking"])
    async def book_details(request: Request, slot: str = "", grade: str = "") -> HTMLResponse:
        """Step 2: the caller and the briefing."""
        return book.details_page(pages, request, book.Choice.parse(slot), grade)

    @app.post("/book/check", tags=["booking"])
    async def book_check(request: Request) -> Response:
        """Step 2 sent: errors shown on the form, or step 3, the check."""
        return await book.check_page(pages, request)

    @app.post("/book/confirm", tags=["booking"])
    async def book_confirm(request: Request) -> Response:
        """Step 3 sent: book; the confirmation in words to say, or the nearest free slots on a lost race."""
        return await book.confirm(pages, request)

    @app.get("/book/waitlist/stations/{station_id}", response_class=HTMLResponse, tags=["waitlist"])
    async def waitlist_at_station(request: Request, station_id: str) -> HTMLResponse:
        """Step 1 of the waiting list at a station: the grade and the days that would suit."""
        return waitlist.start_page(pages, request, "station", station_id)

    @app.get("/book/waitlist/diary-cars/{district_id}", response_class=HTMLResponse, tags=["waitlist"])
    async def waitlist_for_diary_car(request: Request, district_id: str) -> HTMLResponse:
        """Step 1 of the waiting list for a diary car's home visits."""
        return waitlist.start_page(pages, request, "diary-car", district_id)

    @app.post("/book/waitlist", tags=["waitlist"])
    async def waitlist_days(request: Request) -> Response:
        """Step 1 sent: urgent and priority stopped; otherwise the caller and the briefing."""
        return await waitlist.pick_days(pages, request)

    @app.post("/book/waitlist/check", tags=["waitlist"])
    async def waitlist_check(request: Request) -> Response:
        """Step 2 sent: errors on the form, or step 3, the check."""
        return await waitlist.check_page(pages, request)

    @app.post("/book/waitlist/join", tags=["waitlist"])
    async def waitlist_join(request: Request) -> Response:
        """Step 3 sent: booking puts the caller on the waiting list."""
        return await waitlist.join(pages, request)

    @app.get("/waitlist/{appointment_id}", response_class=HTMLResponse, tags=["waitlist"])
    async def waitlist_entry(request: Request, appointment_id: str) -> HTMLResponse:
        """Where a waiting list entry stands."""
        return await waitlist.entry_page(pages, request, appointment_id)

    @app.post("/waitlist/{appointment_id}", tags=["waitlist"])
    async def waitlist_answer(request: Request, appointment_id: str) -> Response:
        """The caller's answer to an offer, or leaving the list."""
        return await waitlist.answer(pages, request, appointment_id)

    @app.get("/appointments/{appointment_id}/attendance", response_class=HTMLResponse, tags=["booking"])
    async def attendance_form(
        request: Request, appointment_id: str, slot: str = "", what: str = "", day: str = ""
    ) -> HTMLResponse:
        """Record what happened: it took place (the outcome) or was missed (by whom, why)."""
        chosen = {"what": what if what in attendance.WHAT else "", "return_to": day}
        return attendance.attendance_page(pages, request, appointment_id, book.Choice.parse(slot), chosen)

    @app.post("/appointments/{appointment_id}/attendance", tags=["booking"])
    async def record_attendance(request: Request, appointment_id: str) -> Response:
        """The attendance form sent."""
        return await attendance.record(pages, request, appointment_id)

    @app.get("/appointments/{appointment_id}/cancel", response_class=HTMLResponse, tags=["booking"])
    async def cancel_form(request: Request, appointment_id: str, slot: str = "") -> HTMLResponse:
        """Cancel an appointment: who asked, and booking's reason code."""
        return change.cancel_page(pages, request, appointment_id, book.Choice.parse(slot))

    @app.post("/appointments/{appointment_id}/cancel", tags=["booking"])
    async def cancel_appointment(request: Request, appointment_id: str) -> Response:
        """The cancel form sent."""
        return await change.cancel(pages, request, appointment_id)

    @app.get("/appointments/{appointment_id}/reschedule", response_class=HTMLResponse, tags=["booking"])
    async def reschedule_form(request: Request, appointment_id: str, slot: str = "") -> HTMLResponse:
        """Move an appointment: a free slot at its place, who asked, and booking's reason code."""
        return await change.reschedule_page(pages, request, appointment_id, book.Choice.parse(slot))

    @app.post("/appointments/{appointment_id}/reschedule", tags=["booking"])
    async def reschedule_appointment(request: Request, appointment_id: str) -> Response:
        """The reschedule form sent."""
        return await change.reschedule(pages, request, appointment_id)

    @app.get("/roster", response_class=HTMLResponse, tags=["roster"])
    async def roster_day(
        request: Request, day: str | None = None, district: str | None = None
    ) -> HTMLResponse:
        """Who is on which duty where on a London day, by district."""
        return await roster.day_page(pages, request, district, day)

    @app.get("/roster/week", response_class=HTMLResponse, tags=["roster"])
    async def roster_week(
        request: Request, district: str | None = None, first: str | None = Query(None, alias="from")
    ) -> HTMLResponse:
        """A district's week: each officer's duty on each of seven days."""
        return await roster.week_page(pages, request, district, first)

    @app.get("/roster/officers/new", response_class=HTMLResponse, tags=["roster"])
    async def roster_register_form(request: Request) -> HTMLResponse:
        """Register an officer: collar number and home station."""
        return await roster.register_page(pages, request)

    @app.post("/roster/officers/new", tags=["roster"])
    async def roster_register(request: Request) -> Response:
        """The register form sent."""
        return await roster.register(pages, request)

    @app.get("/roster/officers/{officer_id}", response_class=HTMLResponse, tags=["roster"])
    async def roster_officer(request: Request, officer_id: str) -> HTMLResponse:
        """An officer's duties and withdrawals."""
        return await roster.officer_page(pages, request, officer_id)

    @app.get("/roster/officers/{officer_id}/duties", response_class=HTMLResponse, tags=["roster"])
    async def roster_assign_form(request: Request, officer_id: str) -> HTMLResponse:
        """Put an officer on a duty: which, where, the day and the times."""
        return await roster.assign_page(pages, request, officer_id)

    @app.post("/roster/officers/{officer_id}/duties", tags=["roster"])
    async def roster_assign(request: Request, officer_id: str) -> Response:
        """The assign form sent."""
        return await roster.assign(pages, request, officer_id)

    @app.get(
        "/roster/officers/{officer_id}/duties/{duty_id}/end", response_class=HTMLResponse, tags=["roster"]
    )
    async def roster_end_form(request: Request, officer_id: str, duty_id: str) -> HTMLResponse:
        """End a duty: now or at a time, with the roster's reason code."""
        return await roster.end_page(pages, request, officer_id, duty_id)

    @app.post("/roster/officers/{officer_id}/duties/{duty_id}/end", tags=["roster"])
    async def roster_end(request: Request, officer_id: str, duty_id: str) -> Response:
        """The end form sent: what booking did with the appointments after the new end."""
        return await roster.end(pages, request, officer_id, duty_id)

    @app.get("/roster/officers/{officer_id}/withdraw", response_class=HTMLResponse, tags=["roster"])
    async def roster_withdraw_form(request: Request, officer_id: str) -> HTMLResponse:
        """Withdraw an officer from appointment duty: the span and the reason."""
        return await roster.withdraw_page(pages, request, officer_id)

    @app.post("/roster/officers/{officer_id}/withdraw", tags=["roster"])
    async def roster_withdraw(request: Request, officer_id: str) -> Response:
        """The withdraw form sent: what booking did with the officer's appointments."""
        return await roster.withdraw(pages, request, officer_id)

    @app.get("/my-day", tags=["officers"])
    async def my_day(request: Request, day: str | None = None) -> Response:
        """The signed-in officer's own day (their roster id found by their collar number)."""
        return await officers_day.my_day(pages, request, day)

    @app.get("/officers/{officer_id}/days/{day}", response_class=HTMLResponse, tags=["officers"])
    async def officer_day(request: Request, officer_id: str, day: str) -> HTMLResponse:
        """An officer's appointments on a day with the callers and the briefings (in the access log)."""
        return await officers_day.day_page(pages, request, officer_id, day)

    @app.get("/figures", response_class=HTMLResponse, tags=["figures"])
    async def figures_page(request: Request) -> HTMLResponse:
        """The KPIs by district and week, and before and after each district's go-live, with charts."""
        return await figures.figures_page(pages, request)

    @app.get("/figures.csv", tags=["figures"])
    async def figures_csv(request: Request) -> Response:
        """The same KPIs as CSV, as the projections write them."""
        return await figures.figures_csv(pages, request)

    @app.get("/access-log", response_class=HTMLResponse, tags=["audit"])
    async def access_log_page(request: Request) -> HTMLResponse:
        """Who processed whose personal data (DPA 2018 s.62), for auditors."""
        return await access_log.access_log_page(pages, request)

    @app.get("/stations/{station_id}/diary", response_class=HTMLResponse, tags=["pages"])
    async def station_diary(
        request: Request, station_id: str, day: str | None = None, as_at: AsAt = Depends(_as_at)
    ) -> HTMLResponse:
        """A station's diary for a day, or as it stood at a London date and time."""
        return await pages.diary_page(request, "station", station_id, day, as_at)

    @app.get("/diary-cars/{district_id}/diary", response_class=HTMLResponse, tags=["pages"])
    async def diary_car_diary(
        request: Request, district_id: str, day: str | None = None, as_at: AsAt = Depends(_as_at)
    ) -> HTMLResponse:
        """A district diary car's day, or as it stood at a London date and time."""
        return await pages.diary_page(request, "diary-car", district_id, day, as_at)

    @app.get("/stations/{station_id}/free-slots", response_class=HTMLResponse, tags=["pages"])
    async def station_free_slots(
        request: Request, station_id: str, days: tuple[str | None, str | None] = Depends(_days)
    ) -> HTMLResponse:
        """The free slots booking offers at a station, grouped by day."""
        return await pages.free_page(request, "station", station_id, *days)

    @app.get("/diary-cars/{district_id}/free-windows", response_class=HTMLResponse, tags=["pages"])
    async def diary_car_free_windows(
        request: Request, district_id: str, days: tuple[str | None, str | None] = Depends(_days)
    ) -> HTMLResponse:
        """The free home-visit windows booking offers for a diary car, grouped by day."""
        return await pages.free_page(request, "diary-car", district_id, *days)

    @app.get("/find", response_class=HTMLResponse, tags=["pages"])
    async def find_form(request: Request) -> HTMLResponse:
        """Find an appointment by its case reference or the caller's phone number."""
        return find.find_page(request)

    @app.post("/find", response_class=HTMLResponse, tags=["pages"])
    async def find_appointments(request: Request) -> HTMLResponse:
        """A search sent (by POST: a phone number never goes into an address); the appointments found."""
        return await find.find(pages, request, await form_of(request))

    @app.get("/appointments", response_class=HTMLResponse, tags=["pages"])
    async def find_appointment(request: Request, reference: str | None = Query(None, alias="id")) -> Response:
        """Go to an appointment's history from the reference typed on the county page."""
        reference = (reference or "").strip()
        if not reference:
            why = "Type the appointment's reference to see its history."
            return error_page(request, 422, "Enter an appointment reference", why, back="/")
        return RedirectResponse(f"/appointments/{quote(reference, safe='')}", status_code=303)

    @app.get("/appointments/{appointment_id}", response_class=HTMLResponse, tags=["pages"])
    async def appointment_history(request: Request, appointment_id: str) -> HTMLResponse:
        """An appointment's history as a timeline: when, what, and who."""
        return await pages.history_page(request, appointment_id)

    return app
