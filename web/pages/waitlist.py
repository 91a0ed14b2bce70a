"""The waitlist from the pages: a caller for whom no free slot suits waits for one at a station or
a diary car over some days; booking offers them the first one that frees, held for a while.

The same three steps as booking (web.pages.book), with the days instead of a slot: (1) the grade
first (urgent and priority stopped before anything is typed) and the days that would suit,
(2) the caller and the briefing, (3) a check, then booking's ``POST /waitlist``. The entry's page
(``/waitlist/{id}``) says where it stands as booking answers it: waiting, offered a slot (until
when, with the caller's answer to record), booked, or left.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, timedelta
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from services.common.london import local, spoken_day
from web.answers import WaitlistEntryAnswer
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.london_input import TypedDateError, typed_date
from web.pages.book import (
    BOOKING_FIELDS,
    DETAILS,
    GRADES,
    LANGUAGES,
    RISKS,
    Wanted,
    caller_and_briefing,
    check_details,
    csrf_ok,
    detail_rows,
    may_book,
    read_form,
)
from web.pages.site import Site
from web.places import Place, find_place, no_place
from web.rendering import render
from web.words import sentence

# Booking's own limit on the days one entry covers (services/booking/app/waitlist/forms.py).
MOST_DAYS = 28
STATE_WORDS = {
    "waiting": ("Waiting", "govuk-tag--blue", "Waiting for a slot to come free."),
    "offered": ("Offered a slot", "govuk-tag--yellow", "A slot came free and is held for the caller."),
    "booked": ("Booked", "govuk-tag--green", "The caller took a slot: it is booked."),
    "left": ("Left the list", "govuk-tag--grey", "The caller is no longer waiting."),
}
ANSWERS = {
    "accept": ("/offers/{id}/accept", "The caller takes the slot held for them"),
    "decline": ("/offers/{id}/decline", "The caller does not want this slot; they keep waiting"),
    "leave": ("/waitlist/{id}/leave", "The caller no longer wants to wait"),
}


def _refuse(request: Request) -> HTMLResponse:
    why = "The waiting list is kept by the control room's call takers and supervisors."
    return error_page(request, 403, "You cannot put callers on the waiting list", why, back="/")


def _expired(request: Request) -> HTMLResponse:
    return error_page(request, 403, "The form has expired", "Reload the page and try again.", back="/")


def _wanted_words(site: Site, wanted: Wanted) -> str:
    view = find_place(site.county, wanted.place, wanted.place_id)
    where = view.name if view else wanted.place_id
    what = f"A home visit by the {where}" if wanted.place == "diary-car" else f"A slot at {where}"
    return f"{what}, any day from {spoken_day(wanted.first)} to {spoken_day(wanted.last)}"


def _start_path(place: Place, place_id: str) -> str:
    kind = "stations" if place == "station" else "diary-cars"
    return f"/book/waitlist/{kind}/{quote(place_id, safe='')}"


def start_page(
    site: Site,
    request: Request,
    place: Place,
    place_id: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Step 1 of the waitlist: the grade, and the days that would suit."""
    if not may_book(request):
        return _refuse(request)
    view = find_place(site.county, place, place_id)
    if view is None:
        return no_place(request, place, place_id)
    errors = dict(errors or {})
    return render(
        request,
        "waitlist_start.html",
        status=status,
        title=f"Put the caller on the waiting list for {view.name}",
        place_name=view.name,
        place=place,
        place_id=place_id,
        book_url=f"/book/{'stations' if place == 'station' else 'diary-cars'}/{quote(place_id, safe='')}",
        grades=GRADES,
        values=dict(values or first_and_last_suggested(site)),
        errors=errors,
        error_list=[{"text": text, "href": f"#{field}"} for field, text in errors.items()],
        has_error=bool(errors),
        most_days=MOST_DAYS,
    )


def _days(site: Site, form: Mapping[str, str], errors: dict[str, str]) -> tuple[date | None, date | None]:
    found: list[date | None] = []
    for box, what in (("from", "The first day"), ("to", "The last day")):
        try:
            found.append(
                typed_date(
                    form.get(f"{box}-day", ""),
                    form.get(f"{box}-month", ""),
                    form.get(f"{box}-year", ""),
                    what,
                )
            )
        except TypedDateError as exc:
            errors[f"{box}-{exc.part}"] = str(exc)
            found.append(None)
    first, last = found
    if first and first < site.today():
        errors["from-day"] = "The first day must be today or later"
    elif first and last and last < first:
        errors["to-day"] = "The last day must be the same as or after the first day"
    elif first and last and (last - first).days + 1 > MOST_DAYS:
        errors["to-day"] = f"The waiting list covers at most {MOST_DAYS} days: choose an earlier last day"
    return first, last


async def pick_days(site: Site, request: Request) -> Response:
    """Step 1 sent: urgent and priority stopped; otherwise the caller's details for the days chosen."""
    if not may_book(request):
        return _refuse(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return _expired(request)
    place: Place = "diary-car" if form.get("place") == "diary-car" else "station"
    place_id, grade = form.get("place_id", ""), form.get("grade", "")
    if grade in ("urgent", "priority"):
        return render(
            request,
            "book_stop.html",
            status=422,
            title="Do not book: emergency response",
            grade=GRADES[grade][0].lower(),
            has_error=True,
        )
    errors: dict[str, str] = {}
    if grade not in GRADES:
        errors["grade"] = "Select the incident's grade"
    first, last = _days(site, form, errors)
    values = {k: form.get(k, "") for k in form if k.startswith(("from-", "to-"))} | {"grade": grade}
    if errors or first is None or last is None:
        return start_page(site, request, place, place_id, values, errors, status=422)
    return details_page(site, request, Wanted(place, place_id, first, last), grade)


def details_page(
    site: Site,
    request: Request,
    wanted: Wanted | None,
    grade: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Step 2: the caller and the briefing (the booking's own form), for the days wanted."""
    if not may_book(request):
        return _refuse(request)
    if (
        wanted is None
        or grade != "scheduled"
        or find_place(site.county, wanted.place, wanted.place_id) is None
    ):
        return error_page(
            request, 422, "Choose the days first", "Start again from the county page.", back="/"
        )
    errors = dict(errors or {})
    return render(
        request,
        "book_details.html",
        status=status,
        title="The caller and the briefing",
        action="/book/waitlist/check",
        choice=wanted,
        slot_words=_wanted_words(site, wanted),
        change_url=_start_path(wanted.place, wanted.place_id),
        change_words="Choose other days",
        grade=grade,
        values={"language": "en", "interpreter_needed": "no", **(values or {})},
        errors=errors,
        error_list=[{"text": text, "href": f"#{field}"} for field, text in errors.items()],
        has_error=bool(errors),
        risks=RISKS,
        languages=LANGUAGES,
    )


def _details_of(form: Mapping[str, str]) -> dict[str, str]:
    return {field: form.get(field, "").strip() for field in DETAILS}


async def check_page(site: Site, request: Request) -> Response:
    """Step 2 sent: the details again with their errors, or step 3: check with the caller."""
    if not may_book(request):
        return _refuse(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return _expired(request)
    wanted, grade, values = Wanted.parse(form.get("slot")), form.get("grade", ""), _details_of(form)
    if wanted is None or grade != "scheduled":
        return details_page(site, request, wanted, grade)
    errors = check_details(wanted, values)
    if errors:
        return details_page(site, request, wanted, grade, values, errors, status=422)
    return render(
        request,
        "book_check.html",
        title="Check the waiting list entry with the caller",
        action="/book/waitlist/join",
        button="Put on the waiting list",
        choice=wanted,
        grade=grade,
        values=values,
        rows=[("Waiting for", _wanted_words(site, wanted)), *detail_rows(wanted, values)],
        request_id=secrets.token_urlsafe(16),
    )


async def join(site: Site, request: Request) -> Response:
    """Step 3 sent: booking puts the caller on the list; the page says where the entry stands."""
    if not may_book(request):
        return _refuse(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return _expired(request)
    wanted, grade, values = Wanted.parse(form.get("slot")), form.get("grade", ""), _details_of(form)
    if wanted is None or grade != "scheduled":
        return details_page(site, request, wanted, grade)
    errors = check_details(wanted, values)
    if errors or form.get("action") == "change":
        return details_page(site, request, wanted, grade, values, errors, status=422 if errors else 200)
    body = {
        "place": wanted.place,
        "place_id": wanted.place_id,
        "from_day": wanted.first.isoformat(),
        "to_day": wanted.last.isoformat(),
        "incident_grade": grade,
        # One request id per check page: pressing the button twice joins once.
        "request_id": form.get("request_id") or secrets.token_urlsafe(16),
        **caller_and_briefing(wanted, values),
    }
    try:
        status, answer = await site.backends.post("booking", "/waitlist", body)
    except BackendError as exc:
        return backend_error_page(request, exc, "booking")
    if status in (200, 201) and isinstance(answer, dict) and answer.get("appointment_id"):
        words = [
            f"You are on the waiting list for {_wanted_words(site, wanted)[0].lower()}"
            f"{_wanted_words(site, wanted)[1:]}.",
            "If a slot comes free we will hold it for you and let you know."
            if values["safe_to_text"] == "yes" and values["caller_phone"]
            else "If a slot comes free we will hold it for you; call 101 to hear whether one has.",
            f"If you no longer need it, call 101 and give your case reference, {values['case_reference']}.",
        ]
        return await entry_page(site, request, str(answer["appointment_id"]), joined=words)
    if status == 403:
        return _refuse(request)
    fields = (
        [e for e in (answer.get("errors") or []) if isinstance(e, dict)] if isinstance(answer, dict) else []
    )
    if status == 422 and any(e.get("field") == "incident_grade" for e in fields):
        return render(
            request,
            "book_stop.html",
            status=422,
            title="Do not book: emergency response",
            grade="urgent or priority",
            has_error=True,
        )
    mapped = {
        BOOKING_FIELDS[str(e.get("field"))]: sentence(str(e.get("reason") or "not accepted"))
        for e in fields
        if str(e.get("field")) in BOOKING_FIELDS
    }
    if status == 422 and mapped:
        return details_page(site, request, wanted, grade, values, mapped, status=422)
    detail = str(answer.get("detail") or "no reason given") if isinstance(answer, dict) else "no reason given"
    if status in (409, 422):
        days = {
            "from-day": str(wanted.first.day),
            "from-month": str(wanted.first.month),
            "from-year": str(wanted.first.year),
            "to-day": str(wanted.last.day),
            "to-month": str(wanted.last.month),
            "to-year": str(wanted.last.year),
            "grade": grade,
        }
        return start_page(
            site,
            request,
            wanted.place,
            wanted.place_id,
            days,
            {"from-day": f"{sentence(detail)}."},
            status=status,
        )
    return backend_error_page(request, BackendError("booking", status, detail), "booking")


def _place_of(stream: str | None) -> tuple[Place, str] | None:
    """The place a waitlist stream names: 'waitlist:station:cheshunt'."""
    parts = (stream or "").split(":")
    if len(parts) != 3 or parts[1] not in ("station", "diary-car"):
        return None
    return ("station" if parts[1] == "station" else "diary-car"), parts[2]


async def entry_page(
    site: Site,
    request: Request,
    appointment_id: str,
    joined: list[str] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """Where a waitlist entry stands, as booking answers it; the caller's answer to an offer."""
    if not may_book(request):
        return _refuse(request)
    path = f"/waitlist/{quote(appointment_id, safe='')}"
    try:
        payload = await site.backends.get("booking", path)
        entry = WaitlistEntryAnswer.model_validate(payload)
    except BackendError as exc:
        if exc.status == 404:
            return error_page(
                request, 404, "No such waiting list entry", f"Booking says: {exc.detail}.", back="/"
            )
        return backend_error_page(request, exc, "the waiting list")
    except ValueError:
        misshapen = BackendError("booking", 502, "answered in a shape these pages do not understand")
        return backend_error_page(request, misshapen, "the waiting list")
    stream = payload.get("waitlist") if isinstance(payload, dict) else None
    where = _place_of(stream if isinstance(stream, str) else None)
    view = find_place(site.county, *where) if where else None
    tag, tag_class, meaning = STATE_WORDS.get(entry.status, (sentence(entry.status), "", ""))
    held = None
    if entry.status == "offered" and entry.day and entry.when:
        held = f"{entry.when}, {entry.day}" + (f", held until {entry.expires}" if entry.expires else "")
    answers = (
        {"accept": ANSWERS["accept"][1], "decline": ANSWERS["decline"][1]}
        if entry.status == "offered"
        else {}
    )
    if entry.status in ("waiting", "offered"):
        answers["leave"] = ANSWERS["leave"][1]
    return render(
        request,
        "waitlist_entry.html",
        title="Waiting list entry",
        appointment_id=appointment_id,
        where=view.name if view else None,
        tag=tag,
        tag_class=tag_class,
        meaning=meaning,
        held=held,
        booked=f"{entry.when}, {entry.day}"
        if entry.status == "booked" and entry.day and entry.when
        else None,
        joined=joined,
        done=done,
        answers=answers,
        diary_url=f"{view.diary_path}?day={local(entry.starts_at).date().isoformat()}"
        if view and entry.starts_at
        else None,
        appointment_url=f"/appointments/{quote(appointment_id, safe='')}"
        if entry.status == "booked"
        else None,
    )


async def answer(site: Site, request: Request, appointment_id: str) -> Response:
    """The caller's answer recorded: take the held slot, turn it down, or stop waiting."""
    if not may_book(request):
        return _refuse(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return _expired(request)
    choice = form.get("answer", "")
    if choice not in ANSWERS:
        return await entry_page(site, request, appointment_id, done="Choose the caller's answer first.")
    path = ANSWERS[choice][0].format(id=quote(appointment_id, safe=""))
    try:
        status, reply = await site.backends.post("booking", path, {})
    except BackendError as exc:
        return backend_error_page(request, exc, "booking")
    if status == 200:
        said = {
            "accept": "Booked: the caller took the slot.",
            "decline": "The slot goes to the next caller waiting.",
            "leave": "The caller is off the waiting list.",
        }[choice]
        return await entry_page(site, request, appointment_id, done=said)
    detail = (
        str(reply.get("detail") or "booking refused it") if isinstance(reply, dict) else "booking refused it"
    )
    if status in (404, 409, 422):
        return await entry_page(site, request, appointment_id, done=f"Not done: {detail}.")
    return backend_error_page(request, BackendError("booking", status, detail), "booking")


def first_and_last_suggested(site: Site) -> dict[str, str]:
    """The start page's days when nothing was typed: today and a week on."""
    first, last = site.today(), site.today() + timedelta(days=6)
    return {
        "from-day": str(first.day),
        "from-month": str(first.month),
        "from-year": str(first.year),
        "to-day": str(last.day),
        "to-month": str(last.month),
        "to-year": str(last.year),
    }
