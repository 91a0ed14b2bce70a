"""Rescheduling and cancelling from an appointment's page, with booking's reason codes as choices.

The reasons are booking's own codes (schemas.booking: CancelReason, RescheduleReason), offered
as radios in words; staff's own words go in the optional note, which booking seals under the
caller's key. Where the appointment is comes from its history when the person's role may read
it, else from the slot the diary's link carries (a call taker cannot read histories).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, get_args
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from schemas.booking import CancelReason, RescheduleReason
from services.common.london import local, spoken_day
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.pages.book import (
    Choice,
    Offer,
    _Alternative,
    _first_day,
    _free,
    _offer,
    _slot_words,
    csrf_ok,
    may_book,
    read_form,
)
from web.pages.site import Site
from web.places import Place, find_place
from web.rendering import render
from web.words import plain, sentence

CANCEL_WORDS = {
    "no-longer-needed": "The caller no longer needs it",
    "caller-unavailable": "The caller cannot come",
    "resolved-another-way": "Resolved another way",
    "duplicate": "It was booked twice",
    "officer-withdrawn": "No officer can attend",
    "station-closed": "The station is closed",
    "other": "Another reason (say why in the note)",
}
RESCHEDULE_WORDS = {
    "caller-asked": "The caller asked to move it",
    "officer-withdrawn": "The officer was withdrawn",
    "duty-ended-early": "The officer's duty ended early",
    "officer-unavailable": "No officer is available",
    "room-unavailable": "The room is not available",
    "station-closed": "The station is closed",
    "other": "Another reason (say why in the note)",
}
# Codes only the system records (a caller's CANCEL by text), never offered to staff.
SYSTEM_ONLY = {"cancelled-by-text"}
INITIATORS = {"public": "The caller", "police": "The police"}
NOTE_LIMIT = 500


def reasons(codes: tuple[str, ...], words: Mapping[str, str]) -> dict[str, str]:
    """Booking's codes in words, in its own order (a new code shows in plain words until named)."""
    return {code: words.get(code, sentence(plain(code))) for code in codes if code not in SYSTEM_ONLY}


def cancel_reasons() -> dict[str, str]:
    """The cancel reasons staff may choose."""
    return reasons(get_args(CancelReason), CANCEL_WORDS)


def reschedule_reasons() -> dict[str, str]:
    """The reschedule reasons staff may choose."""
    return reasons(get_args(RescheduleReason), RESCHEDULE_WORDS)


def where_now(site: Site, events: list[Mapping[str, Any]], hint: Choice | None) -> Choice | None:
    """The appointment's place and current slot, from its history's events (oldest first), else ``hint``."""
    place: tuple[Place, str] | None = None
    starts: datetime | None = None
    for data in events:
        if isinstance(data.get("station_id"), str):
            place = ("station", data["station_id"])
        elif isinstance(data.get("diary_car_id"), str) and isinstance(data.get("district_id"), str):
            place = ("diary-car", data["district_id"])
        text = data.get("starts_at") or data.get("window_starts_at")
        if isinstance(text, str):
            try:
                starts = datetime.fromisoformat(text)
            except ValueError:
                continue
    if place is None or starts is None or starts.tzinfo is None:
        return hint
    wall = local(starts)
    return Choice(place[0], place[1], wall.date(), f"{wall:%H:%M}")


def _appointment_url(appointment_id: str, choice: Choice | None) -> str:
    query = f"?{urlencode({'slot': choice.token})}" if choice else ""
    return f"/appointments/{quote(appointment_id, safe='')}{query}"


def _refuse_role(request: Request) -> HTMLResponse:
    why = "Moving and cancelling appointments is for the control room's call takers and supervisors."
    return error_page(request, 403, "You cannot change appointments", why, back="/")


def cancel_page(
    site: Site,
    request: Request,
    appointment_id: str,
    choice: Choice | None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The cancel form: who asked, why (a code), and an optional note."""
    if not may_book(request):
        return _refuse_role(request)
    errors = dict(errors or {})
    return render(
        request,
        "change_cancel.html",
        status=status,
        title="Cancel the appointment",
        appointment_id=appointment_id,
        slot_words=_slot_words(site, choice) if choice else None,
        choice=choice,
        back_url=_appointment_url(appointment_id, choice),
        values=dict(values or {}),
        errors=errors,
        error_list=[{"text": text, "href": f"#{field}"} for field, text in errors.items()],
        has_error=bool(errors),
        reasons=cancel_reasons(),
        initiators=INITIATORS,
    )


def _check_reason(values: Mapping[str, str], choices: Mapping[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if values.get("initiated_by") not in INITIATORS:
        errors["initiated_by"] = "Select who asked for the change"
    if values.get("reason") not in choices:
        errors["reason"] = "Select the reason"
    note = values.get("note", "")
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"The note must be {NOTE_LIMIT} characters or fewer"
    elif values.get("reason") == "other" and not note.strip():
        errors["note"] = "Say why in the note, as the reason is 'another reason'"
    return errors


def _body(values: Mapping[str, str]) -> dict[str, Any]:
    note = values.get("note", "").strip()
    return {"initiated_by": values["initiated_by"], "reason": values["reason"], "note": note or None}


async def cancel(site: Site, request: Request, appointment_id: str) -> Response:
    """The cancel form sent: booking cancels it, or the form comes back saying what is wrong."""
    if not may_book(request):
        return _refuse_role(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return error_page(request, 403, "The form has expired", "Reload the page and try again.", back="/")
    choice = Choice.parse(form.get("slot"))
    values = {k: form.get(k, "").strip() for k in ("initiated_by", "reason", "note")}
    errors = _check_reason(values, cancel_reasons())
    if errors:
        return cancel_page(site, request, appointment_id, choice, values, errors, status=422)
    path = f"/appointments/{quote(appointment_id, safe='')}/cancel"
    try:
        status, answer = await site.backends.post("booking", path, _body(values))
    except BackendError as exc:
        return backend_error_page(request, exc, "booking")
    if status == 200:
        words = ["Your appointment has been cancelled."]
        if choice:
            words = [f"Your appointment on {spoken_day(choice.day)} has been cancelled."]
        words.append("If you need an officer again, call 101.")
        return render(request, "change_done.html", title="Appointment cancelled", words=words,
                      appointment_url=_appointment_url(appointment_id, choice),
                      diary_url=_diary_url(site, choice))  # fmt: skip
    refusal = _refusal(request, status, answer)
    if isinstance(refusal, dict):
        return cancel_page(site, request, appointment_id, choice, values, refusal, status=status)
    return refusal


def _diary_url(site: Site, choice: Choice | None) -> str | None:
    view = find_place(site.county, choice.place, choice.place_id) if choice else None
    return f"{view.diary_path}?day={choice.day.isoformat()}" if view and choice else None


def _refusal(request: Request, status: int, answer: Any) -> HTMLResponse | dict[str, str]:
    """Booking's refusal: a page (not allowed, no such appointment, a fault), or the errors to show
    on the form it came from (409: the appointment's state forbids it; 422: a field is wrong)."""
    detail = str(answer.get("detail") or "booking refused it") if isinstance(answer, dict) else "refused"
    if status == 403:
        return _refuse_role(request)
    if status == 404:
        return error_page(request, 404, "No such appointment", f"Booking says: {detail}.", back="/")
    if status in (409, 422):
        return {"reason": f"{sentence(detail)}."}
    return backend_error_page(request, BackendError("booking", status, detail), "booking")


async def reschedule_page(
    site: Site,
    request: Request,
    appointment_id: str,
    choice: Choice | None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
    offers: list[Offer] | None = None,
) -> HTMLResponse:
    """The reschedule form: a free slot at the same place, who asked, why (a code), a note."""
    if not may_book(request):
        return _refuse_role(request)
    if choice is None or find_place(site.county, choice.place, choice.place_id) is None:
        why = "Open the appointment from its diary, so the pages know where it is."
        return error_page(request, 422, "Where is this appointment?", why, back="/")
    query = dict(request.query_params)
    if not any(query.get(f"from-{p}") for p in ("day", "month", "year")):
        query |= {"from-day": str(choice.day.day), "from-month": str(choice.day.month),
                  "from-year": str(choice.day.year)}  # fmt: skip
    first, typed, date_error, date_part = _first_day(site, query)
    if offers is None:
        try:
            found = await _free(site, choice.place, choice.place_id, first, 7)
        except BackendError as exc:
            if exc.status not in (400, 422):
                return backend_error_page(request, exc, "the free slots")
            found, date_error, date_part = [], f"{exc.detail}.", "day"
        offers = [_offer(site, choice.place, choice.place_id, slot, False) for slot in found]
    errors = dict(errors or {})
    error_list = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    if date_error:
        error_list.append({"text": date_error, "href": f"#from-{date_part}"})
    return render(
        request,
        "change_reschedule.html",
        status=status if status != 200 or not date_error else 422,
        title="Move the appointment",
        appointment_id=appointment_id,
        slot_words=_slot_words(site, choice),
        choice=choice,
        offers=offers,
        typed=typed,
        date_error=date_error,
        date_part=date_part,
        path=f"/appointments/{quote(appointment_id, safe='')}/reschedule",
        back_url=_appointment_url(appointment_id, choice),
        values=dict(values or {}),
        errors=errors,
        error_list=error_list,
        has_error=bool(error_list),
        reasons=reschedule_reasons(),
        initiators=INITIATORS,
    )


async def reschedule(site: Site, request: Request, appointment_id: str) -> Response:
    """The reschedule form sent: booking moves it; a slot taken first offers the nearest at once."""
    if not may_book(request):
        return _refuse_role(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return error_page(request, 403, "The form has expired", "Reload the page and try again.", back="/")
    current, target = Choice.parse(form.get("current")), Choice.parse(form.get("slot"))
    values = {k: form.get(k, "").strip() for k in ("initiated_by", "reason", "note")}
    values["slot"] = form.get("slot", "")
    errors = _check_reason(values, reschedule_reasons())
    if target is None:
        errors = {"slot": "Select the new slot", **errors}
    if errors:
        return await reschedule_page(site, request, appointment_id, current, values, errors, status=422)
    assert target is not None
    path = f"/appointments/{quote(appointment_id, safe='')}/reschedule"
    body = {"day": target.day.isoformat(), "start": target.start, **_body(values)}
    try:
        status, answer = await site.backends.post("booking", path, body)
    except BackendError as exc:
        return backend_error_page(request, exc, "booking")
    if status == 200:
        moved = _slot_words(site, target)
        words = [f"Your appointment has moved to {moved}."]
        if target.place == "station":
            words.append("Please come to the front counter a few minutes early and give your name.")
        words.append("If that time does not suit you, call 101.")
        return render(request, "change_done.html", title="Appointment moved", words=words,
                      appointment_url=_appointment_url(appointment_id, target),
                      diary_url=_diary_url(site, target))  # fmt: skip
    if status == 409 and isinstance(answer, dict) and answer.get("alternatives") is not None:
        alternatives = [_Alternative.model_validate(a) for a in answer["alternatives"]]
        offers = [_offer(site, a.place, a.place_id, a, False) for a in alternatives]
        errors = {"slot": f"{_slot_words(site, target)} was taken a moment ago: choose one of the nearest"}
        values["slot"] = offers[0].choice.token if offers else ""
        return await reschedule_page(site, request, appointment_id, current, values, errors, 409, offers)
    refusal = _refusal(request, status, answer)
    if isinstance(refusal, dict):
        return await reschedule_page(site, request, appointment_id, current, values, refusal, status)
    return refusal


def change_links(
    request: Request, appointment_id: str, choice: Choice | None, cancelled: bool
) -> dict[str, Any]:
    """What the appointment's page offers a person who may book: move or cancel it."""
    if not may_book(request) or cancelled:
        return {"can_change": False}
    query = f"?{urlencode({'slot': choice.token})}" if choice else ""
    base = f"/appointments/{quote(appointment_id, safe='')}"
    return {
        "can_change": True,
        "reschedule_url": f"{base}/reschedule{query}" if choice else None,
        "cancel_url": f"{base}/cancel{query}",
    }
