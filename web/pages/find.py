"""Find an appointment: by its case reference, or by the caller's phone number, then open it.

The projections' ``POST /appointments/search`` answers (with the person's own token, so its role
rules are the page's: an officer finds only their own, a role it refuses is told so). Both forms
are sent by POST with the session's CSRF token, so a phone number never goes into an address,
which browsers keep in their history and servers in their logs; the page is sent ``no-store``
like every page. Each appointment found links to its page (carrying where and when it is, as the
diary's rows do, for a call taker who may not read its history); a waiting-list entry to its entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.common.london import local, spoken_day, spoken_range
from web.answers import FoundAnswer, FoundAppointmentAnswer
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.officers import KnownOfficers
from web.pages.book import csrf_ok, may_book
from web.pages.diary import STATUS_TAGS, STATUS_WORDS
from web.pages.site import Site
from web.places import find_place
from web.rendering import render
from web.words import plain

By = Literal["case-reference", "phone"]
FIELDS: dict[By, str] = {"case-reference": "case_reference", "phone": "phone"}
EMPTY: dict[By, str] = {
    "case-reference": "Enter the case reference",
    "phone": "Enter the caller's phone number",
}
NOT_A_PHONE = "Enter a phone number, like 07700 900123 or +44 7700 900123"
TOO_LONG = "The case reference is too long: 64 characters at most"
NOT_A_REFERENCE = "Enter the case reference as it was given, for example 41/12345/26"
LONGEST = {"case-reference": 64, "phone": 32}


def _row(site: Site, a: FoundAppointmentAnswer, officers: KnownOfficers, bookers: bool) -> dict[str, Any]:
    """One appointment found, as a row of the results, with the link that opens it."""
    place = find_place(site.county, "diary-car" if a.place == "diary-car" else "station", a.place_id or "")
    row: dict[str, Any] = {
        "status": STATUS_WORDS.get(a.status, plain(a.status)),
        "status_tag": STATUS_TAGS.get(a.status, ""),
        "case_reference": a.case_reference,
        "officer": officers.label(a.officer_id),
        "where": place.name if place else None,
        "when": None,
        "day": None,
        "diary_url": None,
        "open_url": None,
    }
    if a.kind == "waitlist" and a.status in ("waiting", "lapsed", "offered"):
        row["status"] = "On the waiting list" if a.status != "offered" else "Offered a slot"
        row["status_tag"] = "govuk-tag--purple"
        row["open_url"] = f"/waitlist/{quote(a.appointment_id, safe='')}" if bookers else None
        return row
    if a.starts_at is not None and a.ends_at is not None and place is not None:
        wall = local(a.starts_at)
        slot = f"{place.kind}|{place.place_id}|{wall.date().isoformat()}|{wall:%H:%M}"
        row["when"] = spoken_range(a.starts_at, a.ends_at)
        row["day"] = spoken_day(wall.date())
        row["diary_url"] = f"{place.diary_path}?{urlencode({'day': wall.date().isoformat()})}"
        row["open_url"] = f"/appointments/{quote(a.appointment_id, safe='')}?{urlencode({'slot': slot})}"
    else:
        row["open_url"] = f"/appointments/{quote(a.appointment_id, safe='')}"
    return row


def find_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    """The two search forms, with what was typed, any error, and any results."""
    values = context.pop("values", {})
    return render(
        request, "find.html", status, title="Find an appointment", values=values,
        errors=context.pop("errors", {}), error_list=context.pop("error_list", []), **context,
    )  # fmt: skip


async def find(site: Site, request: Request, form: Mapping[str, str]) -> HTMLResponse:
    """A search sent: the appointments found, or the form again with what is wrong."""
    if not csrf_ok(request, form):
        why = "Open the search again and retry."
        return error_page(request, 403, "The form has expired", why, back="/find")
    by: By = "phone" if form.get("by") == "phone" else "case-reference"
    field = FIELDS[by]
    typed = form.get(field, "").strip()
    values = {field: typed}

    def wrong(reason: str, status: int = 422) -> HTMLResponse:
        return find_page(
            request, status, values=values, errors={field: reason},
            error_list=[{"text": reason, "href": f"#{field}"}],
        )  # fmt: skip

    if not typed:
        return wrong(EMPTY[by])
    if len(typed) > LONGEST[by]:
        return wrong(NOT_A_PHONE if by == "phone" else TOO_LONG)
    try:
        status, body = await site.backends.post("projections", "/appointments/search", {field: typed})
    except BackendError as exc:
        return backend_error_page(request, exc, "the search")
    if status == 422:
        return wrong(NOT_A_PHONE if by == "phone" else NOT_A_REFERENCE)
    if status != 200:
        detail = body.get("detail") if isinstance(body, dict) else None
        refused = BackendError("projections", status, str(detail or "refused"))
        return backend_error_page(request, refused, "the search")
    try:
        answer = FoundAnswer.model_validate(body)
    except ValidationError:
        error = BackendError("projections", 502, "answered in a shape these pages do not understand")
        return backend_error_page(request, error, "the search")
    officers = await site.officers.officers(request, (a.officer_id or "" for a in answer.appointments))
    rows = [_row(site, a, officers, may_book(request)) for a in answer.appointments]
    return find_page(
        request, values=values, searched=by, rows=rows,
        searched_words=f"case reference {typed}" if by == "case-reference" else "the phone number typed",
    )  # fmt: skip
