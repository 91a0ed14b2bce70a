"""Recording what happened at an appointment: it took place (with its outcome), or it was missed
(by the caller or by the police, with booking's reason code). For officers on the day, and
supervisors; booking records it only once the appointment has begun, and says so otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from schemas.booking import MissedReason, Outcome
from services.common.roles import ATTENDERS
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.pages.book import Choice, _slot_words, csrf_ok, read_form
from web.pages.site import Site
from web.rendering import render
from web.words import plain, sentence

WHAT = {
    "attended": "The meeting took place",
    "missed-by-public": "The caller did not come (or nobody was at the address)",
    "missed-by-police": "No officer came",
}
OUTCOME_WORDS = {
    "crime-recorded": "A crime was recorded",
    "advice-given": "Advice was given",
    "referred": "Referred to another team or agency",
    "further-appointment": "Another appointment is needed",
    "no-further-action": "No further action",
}
MISSED_WORDS = {
    "did-not-attend": "The caller did not come",
    "arrived-late": "The caller arrived too late",
    "not-at-address": "Nobody was at the address",
    "officer-called-away": "The officer was called away",
    "officer-unavailable": "No officer was available",
    "other": "Another reason (say why in the note)",
}
NOTE_LIMIT = 500
# Where the form may send the person back to besides the appointment: the officer's day it came from.
RETURN_TO = re.compile(r"^/officers/[A-Za-z0-9._:-]{1,100}/days/[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def return_to(text: str | None) -> str | None:
    """The officer's day to go back to, when ``text`` is one (nothing else: no open redirect)."""
    return text if text and RETURN_TO.match(text) else None


def _coded(codes: tuple[str, ...], words: Mapping[str, str]) -> dict[str, str]:
    return {code: words.get(code, sentence(plain(code))) for code in codes}


def outcomes() -> dict[str, str]:
    """Booking's outcome codes (schemas.booking.Outcome), in words."""
    return _coded(get_args(Outcome), OUTCOME_WORDS)


def missed_reasons() -> dict[str, str]:
    """Booking's missed reasons (schemas.booking.MissedReason), in words."""
    return _coded(get_args(MissedReason), MISSED_WORDS)


def may_attend(request: Request) -> bool:
    """Whether the signed-in person's role may record what happened (booking's own rule)."""
    return bool(request.state.session.role in ATTENDERS)


def _refuse(request: Request) -> HTMLResponse:
    why = "What happened at an appointment is recorded by the officers who attend and their supervisors."
    return error_page(request, 403, "You cannot record what happened", why, back="/")


def _appointment_url(appointment_id: str, choice: Choice | None) -> str:
    query = f"?{urlencode({'slot': choice.token})}" if choice else ""
    return f"/appointments/{quote(appointment_id, safe='')}{query}"


def attendance_page(
    site: Site,
    request: Request,
    appointment_id: str,
    choice: Choice | None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The form: what happened, the outcome or why it was missed, and an optional note."""
    if not may_attend(request):
        return _refuse(request)
    errors = dict(errors or {})
    return render(
        request,
        "attendance.html",
        status=status,
        title="Record what happened",
        appointment_id=appointment_id,
        slot_words=_slot_words(site, choice) if choice else None,
        choice=choice,
        back_url=return_to((values or {}).get("return_to")) or _appointment_url(appointment_id, choice),
        return_to=return_to((values or {}).get("return_to")),
        what=WHAT,
        outcomes=outcomes(),
        missed=missed_reasons(),
        values=dict(values or {}),
        errors=errors,
        error_list=[{"text": text, "href": f"#{field}"} for field, text in errors.items()],
        has_error=bool(errors),
    )


def _check(values: Mapping[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    what = values.get("what")
    if what not in WHAT:
        errors["what"] = "Select what happened"
    elif what == "attended" and values.get("outcome") not in outcomes():
        errors["outcome"] = "Select the outcome"
    elif what != "attended" and values.get("reason") not in missed_reasons():
        errors["reason"] = "Select why it was missed"
    note = values.get("note", "")
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"The note must be {NOTE_LIMIT} characters or fewer"
    elif what != "attended" and values.get("reason") == "other" and not note.strip():
        errors["note"] = "Say why in the note, as the reason is 'another reason'"
    return errors


async def record(site: Site, request: Request, appointment_id: str) -> Response:
    """The form sent: booking records it, or the form says why not (booking's words)."""
    if not may_attend(request):
        return _refuse(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return error_page(request, 403, "The form has expired", "Reload the page and try again.", back="/")
    choice = Choice.parse(form.get("slot"))
    values = {k: form.get(k, "").strip() for k in ("what", "outcome", "reason", "note", "return_to")}
    errors = _check(values)
    if errors:
        return attendance_page(site, request, appointment_id, choice, values, errors, status=422)
    base = f"/appointments/{quote(appointment_id, safe='')}"
    body: dict[str, Any]
    if values["what"] == "attended":
        path, body = f"{base}/attendance", {"outcome": values["outcome"]}
    else:
        by = values["what"].removeprefix("missed-by-")
        path, body = (
            f"{base}/no-show",
            {"missed_by": by, "reason": values["reason"], "note": values["note"] or None},
        )
    try:
        status, answer = await site.backends.post("booking", path, body)
    except BackendError as exc:
        return backend_error_page(request, exc, "booking")
    if status == 200:
        said = (
            f"Attended: {outcomes()[values['outcome']].lower()}."
            if values["what"] == "attended"
            else f"Missed: {missed_reasons()[values['reason']].lower()}."
        )
        return render(request, "attendance_done.html", title="Recorded", said=said,
                      appointment_url=_appointment_url(appointment_id, choice),
                      day_url=return_to(values["return_to"]),
                      slot_words=_slot_words(site, choice) if choice else None)  # fmt: skip
    detail = str(answer.get("detail") or "booking refused it") if isinstance(answer, dict) else "refused"
    if status == 403:
        return _refuse(request)
    if status == 404:
        return error_page(request, 404, "No such appointment", f"Booking says: {detail}.", back="/")
    if status in (409, 422):
        return attendance_page(site, request, appointment_id, choice, values,
                               {"what": f"{sentence(detail)}."}, status=status)  # fmt: skip
    return backend_error_page(request, BackendError("booking", status, detail), "booking")


def attendance_link(request: Request, appointment_id: str, choice: Choice | None, closed: bool) -> str | None:
    """The appointment page's link to record what happened, for those who may and while it is open."""
    if not may_attend(request) or closed:
        return None
    return f"/appointments/{quote(appointment_id, safe='')}/attendance" + (
        f"?{urlencode({'slot': choice.token})}" if choice else ""
    )
