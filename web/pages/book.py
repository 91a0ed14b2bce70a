"""Booking from the pages, while the caller is on the line: three steps from the county page.

1. Pick a slot (a station's free slots, or the earliest across a district's stations and its
   diary car), with the incident's grade asked first: an urgent or priority incident is
   stopped there, with the reason, before anything about the caller is typed.
2. The caller and the briefing.
3. Check and book; the confirmation reads as the words to say on the phone. A slot taken
   first by another call taker shows the nearest free ones at once, the details kept.

The pages keep nothing: what was typed travels in the forms (hidden fields on the check and
lost-race pages, which are sent no-store like every page) until booking has it. Every form
carries the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.common.london import local, spoken_day, spoken_range
from services.common.roles import BOOKERS
from web.answers import FreeSlotAnswer
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.london_input import TypedDateError, typed_date
from web.pages.site import Site
from web.places import Place, find_place, no_place
from web.rendering import render
from web.words import sentence

# How many days a slot page offers, and how many of the earliest a district's page lists.
DAYS_SHOWN = 7
EARLIEST = 6
GRADES = {
    "scheduled": ("Scheduled", "Not an emergency: it can wait for an appointment."),
    "priority": ("Priority", "Needs an officer soon: not booked, it goes to emergency response."),
    "urgent": ("Urgent", "Danger now: not booked, it goes to emergency response."),
}
RISKS = {"high": "High", "medium": "Medium", "low": "Low"}
LANGUAGES = {
    "en": "English",
    "pl": "Polish",
    "ro": "Romanian",
    "ur": "Urdu",
    "pa": "Punjabi",
    "bn": "Bengali",
    "gu": "Gujarati",
    "pt": "Portuguese",
    "ar": "Arabic",
    "tr": "Turkish",
    "so": "Somali",
    "lt": "Lithuanian",
    "bfi": "British Sign Language",
}
# The caller's and the briefing's fields, as the details form names them (all carried to the end).
DETAILS = (
    "caller_name",
    "caller_phone",
    "address_line1",
    "address_line2",
    "address_town",
    "address_postcode",
    "case_reference",
    "summary",
    "vulnerability",
    "access_needs",
    "thrive_risk",
    "safe_to_text",
    "safe_to_call",
    "language",
    "interpreter_needed",
)
# Booking's names for fields (its 422 `errors`) as the details form names them.
BOOKING_FIELDS = {
    "caller.name": "caller_name",
    "caller.phone": "caller_phone",
    "caller.address.line1": "address_line1",
    "caller.address.line2": "address_line2",
    "caller.address.town": "address_town",
    "caller.address.postcode": "address_postcode",
    "briefing.case_reference": "case_reference",
    "briefing.summary": "summary",
    "briefing.vulnerability": "vulnerability",
    "briefing.access_needs": "access_needs",
    "briefing.thrive_risk": "thrive_risk",
    "briefing.language": "language",
}
LIMITS = {"caller_name": 200, "caller_phone": 20, "address_line1": 200, "address_line2": 200,
          "address_town": 200, "address_postcode": 8, "case_reference": 64, "summary": 4000,
          "vulnerability": 4000, "access_needs": 4000}  # fmt: skip


@dataclass(frozen=True)
class Choice:
    """A slot picked: where, the London day and the start on the wall clock."""

    place: Place
    place_id: str
    day: date
    start: str  # "17:00"

    @property
    def token(self) -> str:
        """The slot as a form value."""
        return f"{self.place}|{self.place_id}|{self.day.isoformat()}|{self.start}"

    @classmethod
    def parse(cls, text: str | None) -> Choice | None:
        """A slot from its form value, or None when it is not one."""
        parts = (text or "").split("|")
        if len(parts) != 4 or parts[0] not in ("station", "diary-car"):
            return None
        try:
            day = date.fromisoformat(parts[2])
        except ValueError:
            return None
        start = parts[3]
        if len(start) != 5 or start[2] != ":" or not (start[:2] + start[3:]).isdigit():
            return None
        place: Place = "station" if parts[0] == "station" else "diary-car"
        return cls(place, parts[1], day, start)


@dataclass(frozen=True)
class Wanted:
    """The days a caller on the waitlist would take a slot: where, and the first and last London day."""

    place: Place
    place_id: str
    first: date
    last: date

    @property
    def token(self) -> str:
        """The wish as a form value."""
        return f"{self.place}|{self.place_id}|{self.first.isoformat()}|{self.last.isoformat()}"

    @classmethod
    def parse(cls, text: str | None) -> Wanted | None:
        """A wish from its form value, or None when it is not one."""
        parts = (text or "").split("|")
        if len(parts) != 4 or parts[0] not in ("station", "diary-car"):
            return None
        try:
            first, last = date.fromisoformat(parts[2]), date.fromisoformat(parts[3])
        except ValueError:
            return None
        place: Place = "station" if parts[0] == "station" else "diary-car"
        return cls(place, parts[1], first, last)


@dataclass(frozen=True)
class Offer:
    """A free slot as a radio option."""

    choice: Choice
    label: str
    hint: str | None


def _offer(site: Site, place: Place, place_id: str, slot: FreeSlotAnswer, with_place: bool) -> Offer:
    starts = local(slot.starts_at)
    choice = Choice(place, place_id, starts.date(), f"{starts:%H:%M}")
    when = f"{spoken_range(slot.starts_at, slot.ends_at)}, {spoken_day(starts.date())}"
    view = find_place(site.county, place, place_id)
    where = view.name if view else place_id
    if place == "diary-car":
        return Offer(choice, f"Home visit {when}", f"by the {where}" if with_place else None)
    room = site.room_name(slot.room_id)
    if with_place:
        return Offer(choice, when, f"{where}" + (f", {room.lower()}" if room else ""))
    return Offer(choice, when, room)


def may_book(request: Request) -> bool:
    """Whether the signed-in person's role may book (the booking service's own rule)."""
    return bool(request.state.session.role in BOOKERS)


def _cannot_book(request: Request) -> HTMLResponse:
    why = "Booking is for the control room's call takers and supervisors."
    return error_page(request, 403, "You cannot book appointments", why, back="/")


async def read_form(request: Request) -> dict[str, str]:
    """A posted form's fields (the first value of each), at most 40."""
    fields = parse_qs(
        (await request.body()).decode(errors="replace"), max_num_fields=40, keep_blank_values=True
    )
    return {name: values[0] for name, values in fields.items()}


def csrf_ok(request: Request, form: Mapping[str, str]) -> bool:
    """Whether the form carries the session's CSRF token."""
    return hmac.compare_digest(form.get("csrf", "").encode(), request.state.session.csrf.encode())


def _expired(request: Request) -> HTMLResponse:
    return error_page(request, 403, "The form has expired", "Reload the page and try again.", back="/")


def _first_day(site: Site, query: Mapping[str, str]) -> tuple[date, dict[str, str], str | None, str | None]:
    """The first day to offer: the typed 'from' date (GOV.UK's date input), else today."""
    typed = {part: query.get(f"from-{part}", "") for part in ("day", "month", "year")}
    if not any(typed.values()):
        today = site.today()
        return today, {"day": str(today.day), "month": str(today.month), "year": str(today.year)}, None, None
    try:
        return typed_date(typed["day"], typed["month"], typed["year"], "The first day"), typed, None, None
    except TypedDateError as exc:
        return site.today(), typed, str(exc), exc.part


async def _free(site: Site, place: Place, place_id: str, first: date, days: int) -> list[FreeSlotAnswer]:
    view = find_place(site.county, place, place_id)
    assert view is not None
    params = {"from": first.isoformat(), "to": (first + timedelta(days=days - 1)).isoformat()}
    return await site.backends.read(list[FreeSlotAnswer], "booking", view.free_api, params)


async def slot_page(
    site: Site, request: Request, kind: Place | None, place_id: str, status: int = 200, **shown: Any
) -> HTMLResponse:
    """Step 1: the grade, then a free slot at a place (or, ``kind`` None, across a district)."""
    if not may_book(request):
        return _cannot_book(request)
    query = dict(request.query_params)
    first, typed, date_error, date_part = _first_day(site, query)
    if kind is None:
        try:
            district = site.county.district(place_id)
        except LookupError:
            return no_place(request, "diary-car", place_id)
        title, caption = f"Earliest free slots in {district.name}", district.name
        path = f"/book/districts/{quote(place_id, safe='')}"
        stations = [s for s in site.county.stations_in(place_id) if s.offers_appointments]
        try:
            answers = await asyncio.gather(
                *(_free(site, "station", s.id, first, DAYS_SHOWN) for s in stations),
                _free(site, "diary-car", place_id, first, DAYS_SHOWN),
            )
        except BackendError as exc:
            return backend_error_page(request, exc, "the free slots")
        at_stations = sorted(
            (_offer(site, "station", s.id, slot, True) for s, found in zip(stations, answers, strict=False)
             for slot in found),
            key=lambda o: (o.choice.day, o.choice.start),
        )[:EARLIEST]  # fmt: skip
        visits = [_offer(site, "diary-car", place_id, slot, True) for slot in answers[-1]][:3]
        groups = [("At a police station", at_stations), ("At home, by the diary car", visits)]
    else:
        view = find_place(site.county, kind, place_id)
        if view is None:
            return no_place(request, kind, place_id)
        title = f"Book at {view.name}" if kind == "station" else f"Book a home visit by the {view.name}"
        caption = view.name
        path = f"/book/{'stations' if kind == 'station' else 'diary-cars'}/{quote(place_id, safe='')}"
        try:
            found = await _free(site, kind, place_id, first, DAYS_SHOWN)
        except BackendError as exc:
            if exc.status in (400, 422):
                date_error, date_part = f"{exc.detail}.", "day"
                found = []
            else:
                return backend_error_page(request, exc, "the free slots")
        groups = [("", [_offer(site, kind, place_id, slot, False) for slot in found])]
    errors = list(shown.pop("errors", []))
    if date_error:
        errors.append({"text": date_error, "href": f"#from-{date_part}"})
    return render(
        request,
        "book_slot.html",
        status=422 if date_error and status == 200 else status,
        title=title,
        caption=caption,
        path=path,
        groups=[(heading, offers) for heading, offers in groups],
        any_offers=any(offers for _, offers in groups),
        range_text=f"{spoken_day(first)} to {spoken_day(first + timedelta(days=DAYS_SHOWN - 1))}",
        typed=typed,
        date_error=date_error,
        date_part=date_part,
        grades=GRADES,
        errors=errors,
        has_error=bool(errors),
        # No slot suits the caller: the waiting list of this station or diary car (not a district's).
        wait_url=f"/book/waitlist/{path.removeprefix('/book/')}" if kind else None,
        **shown,
    )


async def pick_slot(site: Site, request: Request) -> Response:
    """Step 1 sent: stop an urgent or priority grade at once; otherwise on to the caller's details."""
    if not may_book(request):
        return _cannot_book(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return _expired(request)
    grade, choice = form.get("grade", ""), Choice.parse(form.get("slot"))
    if grade in ("urgent", "priority"):
        return render(request, "book_stop.html", status=422, title="Do not book: emergency response",
                      grade=GRADES[grade][0].lower(), has_error=True)  # fmt: skip
    errors: list[dict[str, str]] = []
    if grade not in GRADES:
        errors.append({"text": "Select the incident's grade", "href": "#grade"})
    if choice is None:
        errors.append({"text": "Select a slot", "href": "#slot"})
    back = form.get("back", "")
    if errors:
        # Shown again on the page the form came from, with what was chosen kept.
        kind, _, place_id = back.removeprefix("/book/").partition("/")
        place: Place | None = {"stations": "station", "diary-cars": "diary-car"}.get(kind)  # type: ignore[assignment]
        if kind not in ("stations", "diary-cars", "districts"):
            return error_page(request, 422, "Choose a slot", "Start again from the county page.", back="/")
        return await slot_page(site, request, place, place_id, 422, errors=errors, grade=grade,
                               chosen=form.get("slot", ""))  # fmt: skip
    assert choice is not None
    return RedirectResponse(
        f"/book/details?{urlencode({'slot': choice.token, 'grade': grade})}", status_code=303
    )


def _slot_words(site: Site, choice: Choice) -> str:
    """The chosen slot in words: 'Wednesday 16 June 2027 at 5pm, Stevenage police station'."""
    view = find_place(site.county, choice.place, choice.place_id)
    where = view.name if view else choice.place_id
    hour = int(choice.start[:2])
    clock = {0: "midnight", 12: "midday"}.get(hour) or f"{hour % 12 or 12}{'am' if hour < 12 else 'pm'}"
    if choice.start[3:] != "00":
        clock = clock.replace("am", f":{choice.start[3:]}am").replace("pm", f":{choice.start[3:]}pm")
    if choice.place == "diary-car":
        return f"Home visit, {spoken_day(choice.day)}, window starting {clock}, by the {where}"
    return f"{spoken_day(choice.day)} at {clock}, {where}"


def details_page(
    site: Site,
    request: Request,
    choice: Choice | None,
    grade: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Step 2: the caller and the briefing, for the chosen slot."""
    if not may_book(request):
        return _cannot_book(request)
    if (
        choice is None
        or grade != "scheduled"
        or find_place(site.county, choice.place, choice.place_id) is None
    ):
        why = "Choose a slot and the incident's grade first."
        return error_page(request, 422, "Choose a slot first", why, back="/")
    errors = dict(errors or {})
    return render(
        request,
        "book_details.html",
        status=status,
        title="The caller and the briefing",
        choice=choice,
        slot_words=_slot_words(site, choice),
        grade=grade,
        values={"language": "en", "interpreter_needed": "no", **(values or {})},
        errors=errors,
        error_list=[{"text": text, "href": f"#{field}"} for field, text in errors.items()],
        has_error=bool(errors),
        risks=RISKS,
        languages=LANGUAGES,
        change_url=_change_url(choice),
    )


def _change_url(choice: Choice) -> str:
    kind = {"station": "stations", "diary-car": "diary-cars"}[choice.place]
    return f"/book/{kind}/{quote(choice.place_id, safe='')}"


def check_details(choice: Choice | Wanted, values: Mapping[str, str]) -> dict[str, str]:
    """What is missing or wrong in the details typed, by field, in GOV.UK's words; empty when all is well."""
    errors: dict[str, str] = {}

    def need(field: str, message: str) -> None:
        if not values.get(field, "").strip():
            errors[field] = message

    need("caller_name", "Enter the caller's name")
    if choice.place == "diary-car":
        need("address_line1", "Enter the first line of the address the diary car visits")
        need("address_town", "Enter the town or city")
        need("address_postcode", "Enter the postcode")
    need("case_reference", "Enter the case reference")
    need("summary", "Enter a summary of the case for the officer")
    if values.get("thrive_risk") not in RISKS:
        errors["thrive_risk"] = "Select the THRIVE risk"
    for field, words in (("safe_to_text", "text"), ("safe_to_call", "call")):
        if values.get(field) not in ("yes", "no"):
            errors[field] = f"Select whether it is safe to {words} the caller"
    if values.get("interpreter_needed") not in ("yes", "no"):
        errors["interpreter_needed"] = "Select whether an interpreter is needed"
    if values.get("language") not in LANGUAGES:
        errors["language"] = "Select the caller's language"
    phone = values.get("caller_phone", "").strip()
    if phone and not 5 <= len(phone) <= 20:
        errors["caller_phone"] = "Enter a phone number, like 07700 900 982 or +44 7700 900 982"
    elif not phone and "yes" in (values.get("safe_to_text"), values.get("safe_to_call")):
        errors["caller_phone"] = "Enter the caller's phone number, or say it is not safe to text or call"
    postcode = values.get("address_postcode", "").strip()
    if choice.place == "diary-car" and postcode and not 5 <= len(postcode) <= 8:
        errors.setdefault("address_postcode", "Enter a full UK postcode, like AA3 1AB")
    for field, most in LIMITS.items():
        if len(values.get(field, "")) > most:
            errors.setdefault(field, f"Must be {most} characters or fewer")
    return errors


def _details_of(form: Mapping[str, str]) -> dict[str, str]:
    return {field: form.get(field, "").strip() for field in DETAILS}


def _summary(site: Site, choice: Choice, values: Mapping[str, str]) -> list[tuple[str, str]]:
    """The check page's rows: what will be booked, in words."""
    return [("Slot", _slot_words(site, choice)), *detail_rows(choice, values)]


def detail_rows(choice: Choice | Wanted, values: Mapping[str, str]) -> list[tuple[str, str]]:
    """The caller and the briefing as the check page's rows, in words."""
    yes_no = {"yes": "Yes", "no": "No"}
    rows = [
        ("Grade", "Scheduled"),
        ("Caller", values["caller_name"]),
        ("Phone", values["caller_phone"] or "None given"),
    ]
    if choice.place == "diary-car":
        address = [values["address_line1"], values["address_line2"], values["address_town"]]
        rows.append(("Address", ", ".join(a for a in [*address, values["address_postcode"].upper()] if a)))
    rows += [
        ("Case reference", values["case_reference"]),
        ("Summary", values["summary"]),
        ("Vulnerability", values["vulnerability"] or "None given"),
        ("Access needs", values["access_needs"] or "None given"),
        ("THRIVE risk", RISKS.get(values["thrive_risk"], "")),
        ("Safe to text", yes_no.get(values["safe_to_text"], "")),
        ("Safe to call", yes_no.get(values["safe_to_call"], "")),
        ("Language", LANGUAGES.get(values["language"], values["language"])),
        ("Interpreter needed", yes_no.get(values["interpreter_needed"], "")),
    ]
    return rows


async def check_page(site: Site, request: Request) -> Response:
    """Step 2 sent: the details shown again with their errors, or step 3: check and book."""
    if not may_book(request):
        return _cannot_book(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return _expired(request)
    choice, grade, values = Choice.parse(form.get("slot")), form.get("grade", ""), _details_of(form)
    if choice is None or grade != "scheduled":
        return details_page(site, request, choice, grade)
    errors = check_details(choice, values)
    if errors:
        return details_page(site, request, choice, grade, values, errors, status=422)
    return render(
        request,
        "book_check.html",
        title="Check the booking with the caller",
        choice=choice,
        grade=grade,
        values=values,
        rows=_summary(site, choice, values),
        request_id=secrets.token_urlsafe(16),
    )


def booking_body(choice: Choice, grade: str, values: Mapping[str, str], request_id: str) -> dict[str, Any]:
    """The booking service's request (services/booking/app/forms.py's BookingForm)."""
    return {"day": choice.day.isoformat(), "start": choice.start, "incident_grade": grade,
            "request_id": request_id, **caller_and_briefing(choice, values)}  # fmt: skip


def caller_and_briefing(choice: Choice | Wanted, values: Mapping[str, str]) -> dict[str, Any]:
    """The caller and the briefing as booking takes them (for a booking and a waitlist alike)."""
    caller: dict[str, Any] = {"name": values["caller_name"], "phone": values["caller_phone"] or None}
    if choice.place == "diary-car":
        caller["address"] = {
            "line1": values["address_line1"],
            "line2": values["address_line2"] or None,
            "town": values["address_town"],
            "postcode": values["address_postcode"].upper(),
        }
    text = values["safe_to_text"] == "yes"
    call = values["safe_to_call"] == "yes"
    return {
        "caller": caller,
        "briefing": {
            "case_reference": values["case_reference"],
            "summary": values["summary"],
            "vulnerability": values["vulnerability"] or None,
            "access_needs": values["access_needs"] or None,
            "thrive_risk": values["thrive_risk"],
            "safe_to_text": text,
            "safe_to_call": call,
            "preferred_contact": "sms" if text else "phone" if call else "none",
            "language": values["language"],
            "interpreter_needed": values["interpreter_needed"] == "yes",
        },
    }


async def confirm(site: Site, request: Request) -> Response:
    """Step 3 sent: book, then read back the confirmation; a lost race shows the nearest free slots."""
    if not may_book(request):
        return _cannot_book(request)
    form = await read_form(request)
    if not csrf_ok(request, form):
        return _expired(request)
    choice, grade, values = Choice.parse(form.get("slot")), form.get("grade", ""), _details_of(form)
    if choice is None or grade != "scheduled":
        return details_page(site, request, choice, grade)
    errors = check_details(choice, values)
    if errors or form.get("action") == "change":
        return details_page(site, request, choice, grade, values, errors, status=422 if errors else 200)
    view = find_place(site.county, choice.place, choice.place_id)
    assert view is not None
    path = view.free_api.replace("/free-slots", "/appointments").replace("/free-windows", "/visits")
    # One request id per check page: pressing "Book" twice books once (booking replays the answer).
    request_id = form.get("request_id") or secrets.token_urlsafe(16)
    try:
        status, answer = await site.backends.post(
            "booking", path, booking_body(choice, grade, values, request_id)
        )
    except BackendError as exc:
        return backend_error_page(request, exc, "booking")
    if status in (200, 201):
        return _booked(site, request, choice, values, answer)
    if status == 409 and answer.get("alternatives") is not None:
        alternatives = [
            _offer(site, a.place, a.place_id, a, False)
            for a in (_Alternative.model_validate(x) for x in answer["alternatives"])
        ]
        return render(request, "book_taken.html", status=409, title="That slot has just been taken",
                      slot_words=_slot_words(site, choice), alternatives=alternatives, grade=grade,
                      values=values, change_url=_change_url(choice), has_error=True,
                      request_id=secrets.token_urlsafe(16))  # fmt: skip
    if status == 422:
        fields = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
        if any(e.get("field") == "incident_grade" for e in fields):
            return render(request, "book_stop.html", status=422, title="Do not book: emergency response",
                          grade="urgent or priority", has_error=True)  # fmt: skip
        mapped = {
            BOOKING_FIELDS.get(str(e.get("field")), "caller_name"): sentence(
                str(e.get("reason", "not accepted"))
            )
            for e in fields
            if str(e.get("field")) in BOOKING_FIELDS
        }
        if mapped:
            return details_page(site, request, choice, grade, values, mapped, status=422)
        why = str(answer.get("detail") or "Booking did not accept this slot.")
        return render(request, "book_taken.html", status=422, title="That slot cannot be booked",
                      reason=why[:1].upper() + why[1:], slot_words=_slot_words(site, choice), alternatives=[],
                      grade=grade, values=values, change_url=_change_url(choice), has_error=True,
                      request_id=secrets.token_urlsafe(16))  # fmt: skip
    if status == 403:
        return _cannot_book(request)
    detail = str(answer.get("detail") or "no reason given")
    return backend_error_page(request, BackendError("booking", status, detail), "booking")


class _Alternative(FreeSlotAnswer):
    place: Place
    place_id: str


def _booked(
    site: Site, request: Request, choice: Choice, values: Mapping[str, str], answer: Mapping[str, Any]
) -> HTMLResponse:
    """The confirmation, with the words to say to the caller."""
    place: Place = "diary-car" if answer.get("place") == "diary-car" else "station"
    view = find_place(site.county, place, str(answer.get("place_id") or choice.place_id))
    where = view.name if view else choice.place_id
    day, when = str(answer.get("day", spoken_day(choice.day))), str(answer.get("when", ""))
    words: list[str] = []
    if place == "station":
        words.append(f"Your appointment is on {day}, from {when}, at {where}.")
        words.append("Please come to the front counter a few minutes early and give your name.")
    else:
        words.append(f"An officer will visit you at home on {day}, some time from {when}.")
        words.append(f"They will come to {values['address_line1']}, {values['address_postcode'].upper()}.")
    if values["interpreter_needed"] == "yes":
        words.append(
            f"An interpreter for {LANGUAGES.get(values['language'], values['language'])} will be there."
        )
    if values["safe_to_text"] == "yes" and values["caller_phone"]:
        words.append("We will send you a text to confirm this, and a reminder before it.")
    else:
        words.append("We will not send you any texts about it.")
    words.append(
        f"If you need to change it, call 101 and give your case reference, {values['case_reference']}."
    )
    appointment_id = str(answer.get("appointment_id", ""))
    diary = f"{view.diary_path}?day={choice.day.isoformat()}" if view else "/"
    change_url = f"/appointments/{quote(appointment_id, safe='')}?{urlencode({'slot': choice.token})}"
    return render(
        request,
        "book_done.html",
        title="Appointment booked",
        appointment_id=appointment_id,
        words=words,
        diary_url=diary,
        change_url=change_url,
        case_reference=values["case_reference"],
    )
