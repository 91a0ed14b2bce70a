"""The access log for auditors (DPA 2018 s.62): projections' ``GET /access-log`` as a table of who
collected, altered, consulted, disclosed or erased whose personal data, when and through what.

The log never holds a name or a number: who did it is read from the roster when the page is shown
(an officer by collar number and name, anyone else by the name they signed in with, from the
roster's staff directory; by sign-in subject otherwise). Without a subject it lists every
consultation and erasure in the range; with one, everything done with that person's data. The
range is of London days, typed in GOV.UK's date input; today unless typed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.common.london import spoken_day, spoken_moment
from services.common.roles import ROLE_MATRIX
from web.answers import AccessEntryAnswer
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.officers import KnownOfficers
from web.pages import officers_day
from web.pages.events import ROLE_WORDS
from web.pages.ranges import read_range
from web.pages.site import Site
from web.rendering import render
from web.words import plain, sentence

ACCESS_LOG = "GET /access-log"
SUBJECT = re.compile(r"^subject-[0-9a-f]{24}$")
# At most this many entries on a page (the log's oldest first): a longer range is narrowed.
LIMIT = 500
OPERATIONS = {
    "consultation": "Consulted",
    "collection": "Collected",
    "alteration": "Altered",
    "disclosure": "Disclosed",
    "erasure": "Erased",
}
# The projections' words for an opening: "officers-day of officer {id} on {day}".
OPENED = re.compile(r"^officers-day of officer (?P<officer>\S+) on (?P<day>\d{4}-\d{2}-\d{2})$")


def may_read_log(request: Request) -> bool:
    """Whether the signed-in person's role may read the access log (the projections' own rule)."""
    return bool(request.state.session.role in ROLE_MATRIX["projections"][ACCESS_LOG])


def _by(by: str | None, officers: KnownOfficers) -> str:
    """'officer:pc-4021' as 'pc-4021 (officer)', after the collar number and name ('4021 Priya
    Shah, pc-4021 (officer)') when the subject is the collar number of an officer the roster knows;
    'auditor:au-lee' as 'Lee Auditor (auditor)' when the staff directory names the subject."""
    if not by:
        return "Not recorded"
    role, _, who = by.partition(":")
    if not who:
        return by
    name = officers.staff_name(who)
    if name:
        return f"{name} ({ROLE_WORDS.get(role, role).lower()})"
    officer = officers.with_collar(who)
    if officer is None:
        return f"{who} ({role})"
    return f"{officer.label} ({role})" if who in officers.by_id else f"{officer.label}, {who} ({role})"


def _what(what: str, officers: KnownOfficers) -> tuple[str, str | None]:
    """What was opened or recorded, in words, and the officer's day it names (its address) if any."""
    found = OPENED.match(what)
    if found is None:
        return sentence(plain(what)), None
    officer, day = found["officer"], found["day"]
    words = f"{officers.words(officer)}'s day with its briefings, {spoken_day(date.fromisoformat(day))}"
    return words, officers_day.day_url(officer, day)


def _entry(e: AccessEntryAnswer, officers: KnownOfficers) -> dict[str, Any]:
    what, day_url = _what(e.what, officers)
    return {
        "when": spoken_moment(e.at),
        "when_iso": e.at.isoformat(),
        "operation": OPERATIONS.get(e.operation, sentence(plain(e.operation))),
        "by": _by(e.by, officers),
        "subject": e.subject_id,
        "subject_url": "/access-log?" + urlencode({"subject": e.subject_id}),
        "appointment": e.appointment_id,
        "appointment_url": f"/appointments/{quote(e.appointment_id, safe='')}" if e.appointment_id else None,
        "what": what,
        "day_url": day_url,
        "channel": e.channel,
        "recipient": e.recipient,
        "recorded_in": e.recorded_in,
    }


async def access_log_page(site: Site, request: Request) -> HTMLResponse:
    """The access log for a range of London days, and for one subject when given."""
    if not may_read_log(request):
        why = "The access log is for auditors."
        return error_page(request, 403, "You cannot see the access log", why, back="/")
    query = dict(request.query_params)
    subject = query.get("subject", "").strip()
    has_subject = bool(subject)
    typed = read_range(query, None if has_subject else site.today(), None if has_subject else site.today())
    if subject and not SUBJECT.match(subject):
        typed.errors = {
            "subject": "Enter a subject id: “subject-” and 24 letters a to f or digits",
            **typed.errors,
        }
    context: dict[str, Any] = {
        "title": "Access log",
        "range": typed,
        "subject": subject,
        "error_list": typed.error_list,
        "has_error": bool(typed.errors),
        "entries": None,
    }
    if typed.errors:
        return render(request, "access_log.html", status=422, **context)
    params = {"limit": str(LIMIT)}
    if subject:
        params["subject"] = subject
    if typed.first:
        params["from"] = typed.first.isoformat()
    if typed.last:
        params["to"] = typed.last.isoformat()
    try:
        entries = await site.backends.read(list[AccessEntryAnswer], "projections", "/access-log", params)
    except BackendError as exc:
        return backend_error_page(request, exc, "the access log")
    opened = (m["officer"] for e in entries if (m := OPENED.match(e.what)))
    officers = await site.officers.officers(
        request, opened, (e.by.partition(":")[2] for e in entries if e.by)
    )
    context.update(entries=[_entry(e, officers) for e in entries], cut=len(entries) >= LIMIT, limit=LIMIT)
    return render(request, "access_log.html", **context)
