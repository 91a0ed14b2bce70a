"""An officer's day: their appointments with the full briefing, the caller's name and phone and, for
a diary-car visit, the address; and from each, recording what happened (web.pages.attendance).

Everything comes from the projections' ``GET /officers/{officer_id}/days/{day}``, asked with the
signed-in person's own token: the projections let an officer open only their own day (a token's
``sub`` is their collar number, e.g. ``pc-4021``), and supervisors, auditors and admins any; they
write every opening to the access log themselves. "My day" finds the signed-in officer's roster id
from the roster's ``GET /officers`` by that collar number. The page shows personal data in clear,
so it is sent ``no-store`` (as every page is) and keeps nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.common.auth import Role, collar_of
from services.common.london import local, spoken_day, spoken_range
from web.answers import OfficerAnswer, OfficersAppointmentAnswer, OfficersDayAnswer
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.london_input import day_param
from web.pages.attendance import may_attend
from web.pages.book import LANGUAGES, RISKS, Choice
from web.pages.site import Site
from web.places import Place, find_place
from web.rendering import render
from web.words import plain, sentence

STATUS_WORDS = {
    "booked": "Booked",
    "rescheduled": "Moved to this time",
    "attended": "Took place",
    "missed-by-public": "Missed by the caller",
    "missed-by-police": "Missed by the police",
}
CONTACT_WORDS = {"sms": "Text", "phone": "Phone call", "none": "No contact"}
# What an officer may still record: once attended or missed, booking has its word.
OPEN_STATUSES = ("booked", "rescheduled")


def day_url(officer_id: str, day: str) -> str:
    """The address of an officer's day (for the roster's links)."""
    return f"/officers/{quote(officer_id, safe='')}/days/{quote(day, safe='')}"


def _bad_day(request: Request) -> HTMLResponse:
    why = "Give the day as year-month-day, for example 2027-06-28."
    return error_page(request, 422, "That is not a date", why, back="/")


async def my_day(site: Site, request: Request, day_text: str | None) -> Response:
    """The signed-in officer's own day: their roster id found by the collar number they sign in with."""
    try:
        day = day_param(day_text, site.today())
    except ValueError:
        return _bad_day(request)
    session = request.state.session
    if session.role is not Role.OFFICER:
        why = "“My day” is an officer's own appointments. Open an officer's day from the roster."
        return error_page(request, 403, "This page is for officers", why, back="/roster")
    collar = collar_of(session.username)
    try:
        officers = await site.backends.read(list[OfficerAnswer], "roster", "/officers")
    except BackendError as exc:
        return backend_error_page(request, exc, "the roster")
    mine = [o for o in officers if collar is not None and o.collar_number.upper() == collar]
    if not mine:
        why = "The roster has no officer with the collar number you signed in with. Ask your supervisor."
        return error_page(request, 404, "You are not on the roster", why, back="/")
    return RedirectResponse(day_url(mine[0].officer_id, day.isoformat()), status_code=303)


def spoken_phone(number: str | None) -> str | None:
    """A UK number as people write it ('+447700900123' as '07700 900123'); any other as stored."""
    if number and number.startswith("+44") and len(number) == 13 and number[3:].isdigit():
        local_number = "0" + number[3:]
        return f"{local_number[:5]} {local_number[5:]}"
    return number


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _appointment(site: Site, request: Request, a: OfficersAppointmentAnswer, here: str) -> dict[str, Any]:
    """One appointment as the page shows it: where, when, who, the briefing, and what to record."""
    starts = local(a.starts_at)
    kind: Place = "diary-car" if a.place == "diary-car" else "station"
    view = find_place(site.county, kind, a.place_id)
    where = view.name if view else a.place_id
    room = site.room_name(a.room_id)
    choice = Choice(kind, a.place_id, starts.date(), f"{starts:%H:%M}")
    caller = a.caller
    b = a.briefing
    rows: list[tuple[str, str]] = []
    if b is not None:
        rows = [
            ("Case reference", b.case_reference),
            ("THRIVE risk", RISKS.get(b.thrive_risk, sentence(plain(b.thrive_risk)))),
            ("What happened", b.summary or ""),
            ("Background", b.background or ""),
            ("Vulnerability", b.vulnerability or ""),
            ("Vulnerability flags", ", ".join(plain(f) for f in b.vulnerability_flags)),
            ("Access needs", b.access_needs or ""),
            ("Language", LANGUAGES.get(b.language or "", b.language or "")),
            ("Interpreter needed", _yes_no(b.interpreter_needed)),
            (
                "Preferred contact",
                CONTACT_WORDS.get(b.preferred_contact or "", plain(b.preferred_contact or "")),
            ),
            ("Safe to text", _yes_no(b.safe_to_text)),
            ("Safe to call", _yes_no(b.safe_to_call)),
        ]
    record = may_attend(request) and a.status in OPEN_STATUSES
    base = f"/appointments/{quote(a.appointment_id, safe='')}/attendance"
    slot_only = {"slot": choice.token}
    slot = {**slot_only, "day": here}
    return {
        "id": a.appointment_id,
        "when": spoken_range(a.starts_at, a.ends_at),
        "starts_iso": a.starts_at.isoformat(),
        "where": where + (f", {room.lower()}" if room else ""),
        "home_visit": kind == "diary-car",
        "status": STATUS_WORDS.get(a.status, sentence(plain(a.status))),
        "erased": caller is not None and caller.erased,
        "caller_name": caller.name if caller else None,
        "caller_phone": spoken_phone(caller.phone) if caller else None,
        "address": caller.address if caller else None,
        "high_risk": b is not None and b.thrive_risk == "high",
        "briefing": [(k, v) for k, v in rows if v],
        "attended_url": f"{base}?{urlencode({**slot, 'what': 'attended'})}" if record else None,
        "missed_url": f"{base}?{urlencode({**slot, 'what': 'missed-by-public'})}" if record else None,
        "appointment_url": f"/appointments/{quote(a.appointment_id, safe='')}?{urlencode(slot_only)}",
    }


async def day_page(site: Site, request: Request, officer_id: str, day_text: str) -> HTMLResponse:
    """An officer's appointments on a London day, briefed; refused as the projections refuse it."""
    try:
        day = day_param(day_text, site.today())
    except ValueError:
        return _bad_day(request)
    path = day_url(officer_id, day.isoformat())
    try:
        answer = await site.backends.read(OfficersDayAnswer, "projections", path)
    except BackendError as exc:
        if exc.status == 404:
            return error_page(
                request, 404, "No such officer", "The roster has no officer with this id.", back="/roster"
            )
        return backend_error_page(request, exc, "the officer's day")
    # The roster names the officer (collar number and name); the projections' collar number when
    # the roster does not say; never the id.
    known = await site.officers.officers(request, [officer_id])
    roster_says = known.get(officer_id)
    if roster_says is not None:
        who = f"Officer {roster_says.label}"
    elif answer.collar_number:
        who = f"Officer {answer.collar_number}"
    else:
        who = known.words(officer_id) or "An officer"
    own = request.state.session.role is Role.OFFICER
    title = f"My day: {spoken_day(day)}" if own else f"{who}: {spoken_day(day)}"
    return render(
        request,
        "officers_day.html",
        title=title,
        who=who,
        own=own,
        day_text=spoken_day(day),
        appointments=[
            _appointment(site, request, a, path)
            for a in sorted(answer.appointments, key=lambda a: a.starts_at)
        ],
        previous_url=day_url(officer_id, (day.fromordinal(day.toordinal() - 1)).isoformat()),
        next_url=day_url(officer_id, (day.fromordinal(day.toordinal() + 1)).isoformat()),
        today_url=day_url(officer_id, site.today().isoformat()),
        roster_url=f"/roster/officers/{quote(officer_id, safe='')}",
    )
