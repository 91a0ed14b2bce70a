"""The roster for supervisors: who is on which duty where, by day and week; assigning and ending
duties; withdrawing an officer, and what booking then did with their appointments.

Everything is the roster service's (``GET /officers`` and the officer's own operations), asked
with the signed-in person's token: call takers and officers may read it, supervisors and
admins change it. Officers appear by collar number and name ("name not recorded" for one
registered without), never by id.

Booking reacts to a withdrawal or an early end on its own (it hears ``roster.events``): it gives
each appointment the officer had to a colleague at the same time, or moves it to the earliest
free slot, or marks it as needing a new time. The result page finds the officer's appointments
in the diaries before the change, then reads each one's history for a few seconds until
booking's answer shows; what has not shown by then is said to be still being worked out.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import time as clock
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from schemas.roster import NAME_MAX_LENGTH, DutyEndReason, WithdrawalReason
from services.common.auth import Role
from services.common.london import LONDON, local, spoken_day, spoken_moment, spoken_range, spoken_time
from services.common.roles import ROLE_MATRIX, ROSTER_KEEPERS
from web.answers import DiaryAnswer, DutyAnswer, HistoryAnswer, OfficerAnswer
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.london_input import LocalTimeError, TypedDateError, day_param, london_instant, time_param, typed_date
from web.officers import KnownOfficers, officer_label
from web.pages import officers_day
from web.pages.book import read_form
from web.pages.site import Site
from web.places import PlaceView, find_place
from web.rendering import render
from web.words import plain, sentence

DUTY_WORDS = {
    "appointments": "Appointments at a station",
    "diary-car": "Diary car (home visits)",
    "emergency-response": "Emergency response",
    "safer-neighbourhood": "Safer Neighbourhood",
}
WITHDRAWAL_WORDS = {
    "sickness": "Sickness",
    "court": "At court",
    "major-incident": "A major incident",
    "training": "Training",
    "other": "Another reason",
}
END_WORDS = {"planned": "As planned: the shift is over", **WITHDRAWAL_WORDS}
OFFICERS_DAY = "GET /officers/{officer_id}/days/{day}"
# Only these two duties give appointment capacity: a withdrawal takes an officer off them.
APPOINTMENT_DUTIES = ("appointments", "diary-car")
# The roster's own pattern for a collar number (services/roster/app/forms.py).
COLLAR = re.compile(r"[A-Z]{0,2}[0-9]{2,6}")
# What a diary shows for an appointment that still needs its officer.
LIVE_STATUSES = ("booked", "rescheduled", "offered")
STILL_WORKING = "Still being worked out: booking has not said yet. See the diary in a moment."
NO_TIME = "Needs a new time: nobody is free and no free slot was found. Call the caller."
# How long the result page waits for booking's answer to a withdrawal or an early end.
EFFECT_WAIT_SECONDS = 6.0
# What booking records about an appointment when the roster takes its officer away, the final
# word first (an appointment displaced and then moved to a later day was moved).
EFFECT_EVENTS = (
    "AppointmentRescheduled",
    "AppointmentReassigned",
    "AppointmentDisplaced",
    "AppointmentCancelled",
)


def _words(codes: tuple[str, ...], named: Mapping[str, str]) -> dict[str, str]:
    """The roster's codes in words, in its own order (a new code shows in plain words until named)."""
    return {code: named.get(code, sentence(plain(code))) for code in codes}


def withdrawal_reasons() -> dict[str, str]:
    """The roster's withdrawal reasons (schemas.roster.WithdrawalReason), in words."""
    return _words(get_args(WithdrawalReason), WITHDRAWAL_WORDS)


def end_reasons() -> dict[str, str]:
    """The roster's reasons a duty ends (schemas.roster.DutyEndReason), in words."""
    return _words(get_args(DutyEndReason), END_WORDS)


def may_keep_roster(request: Request) -> bool:
    """Whether the signed-in person's role may change the roster (the roster's own rule)."""
    return bool(request.state.session.role in ROSTER_KEEPERS)


def may_open_days(request: Request) -> bool:
    """Whether the role may open any officer's day with its briefings (the projections' own rule;
    an officer opens only their own, from "My day")."""
    role = request.state.session.role
    return role is not Role.OFFICER and role in ROLE_MATRIX["projections"][OFFICERS_DAY]


def _refuse(request: Request) -> HTMLResponse:
    why = "Assigning duties and withdrawing officers is for supervisors."
    return error_page(request, 403, "You cannot change the roster", why, back="/roster")


def _csrf_ok(request: Request, form: Mapping[str, str]) -> bool:
    return hmac.compare_digest(form.get("csrf", "").encode(), request.state.session.csrf.encode())


def _expired(request: Request) -> HTMLResponse:
    return error_page(request, 403, "The form has expired", "Reload the page and try again.", back="/roster")


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a London day begins and ends (23 or 25 hours at a clock change)."""
    start = datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)


def _overlaps(starts: datetime, ends: datetime, first: datetime, last: datetime) -> bool:
    return starts < last and ends > first


def duty_place(site: Site, duty: str, station_id: str | None, district_id: str) -> str:
    """Where a duty is, in words: a station, a district's diary car, or a district."""
    if duty == "appointments" and station_id:
        view = find_place(site.county, "station", station_id)
        return view.name if view else station_id
    if duty == "diary-car":
        view = find_place(site.county, "diary-car", district_id)
        return view.name if view else district_id
    try:
        return site.county.district(district_id).name
    except LookupError:
        return district_id


def _duty_at(site: Site, duty: DutyAnswer) -> str:
    """'Emergency response, Broxbourne': the duty and where, in words."""
    kind = DUTY_WORDS.get(duty.duty, plain(duty.duty)).split(" (")[0].removesuffix(" at a station")
    return f"{kind}, {duty_place(site, duty.duty, duty.station_id, duty.district_id)}"


def _reason(words: Mapping[str, str], code: str) -> str:
    return words.get(code, plain(code)).lower()


def _label(officer: OfficerAnswer) -> str:
    """'4127 Priya Shah', or '4127 (name not recorded)': how the roster's pages name an officer."""
    return officer_label(officer.collar_number, officer.name)


def _officer_url(officer_id: str) -> str:
    return f"/roster/officers/{quote(officer_id, safe='')}"


def _when(starts: datetime, ends: datetime) -> str:
    """'5pm to 10pm, Monday 28 June 2027', or both moments when it runs past midnight."""
    if local(starts).date() == local(ends - timedelta(microseconds=1)).date():
        return f"{spoken_range(starts, ends)}, {spoken_day(local(starts).date())}"
    return f"{spoken_moment(starts)} to {spoken_moment(ends)}"


async def _officers(site: Site, request: Request) -> list[OfficerAnswer] | HTMLResponse:
    try:
        return await site.backends.read(list[OfficerAnswer], "roster", "/officers")
    except BackendError as exc:
        return backend_error_page(request, exc, "the roster")


def _bad_day(request: Request) -> HTMLResponse:
    why = "Give the day as year-month-day, for example 2027-06-28."
    return error_page(request, 422, "That is not a date", why, back="/roster")


async def day_page(
    site: Site, request: Request, district_id: str | None, day_text: str | None
) -> HTMLResponse:
    """Who is on which duty where on a London day, district by district, net of withdrawals."""
    try:
        day = day_param(day_text, site.today())
    except ValueError:
        return _bad_day(request)
    districts = list(site.county.districts)
    if district_id:
        districts = [d for d in districts if d.id == district_id]
        if not districts:
            return error_page(
                request, 404, "No such district", f"There is no district “{district_id}”.", back="/roster"
            )
    officers = await _officers(site, request)
    if isinstance(officers, HTMLResponse):
        return officers
    first, last = _day_bounds(day)
    shown = []
    for district in districts:
        rows: list[dict[str, Any]] = []
        for officer in officers:
            for duty in officer.duties:
                if duty.district_id != district.id or not _overlaps(
                    duty.starts_at, duty.ends_at, first, last
                ):
                    continue
                away = [
                    f"Withdrawn {_when(w.starts_at, w.ends_at)}: {_reason(WITHDRAWAL_WORDS, w.reason)}"
                    for w in officer.withdrawals
                    if duty.duty in APPOINTMENT_DUTIES
                    and _overlaps(w.starts_at, w.ends_at, duty.starts_at, duty.ends_at)
                ]
                if duty.ended and duty.end_reason and duty.end_reason != "planned":
                    away.insert(0, f"Ended early: {_reason(END_WORDS, duty.end_reason)}")
                rows.append(
                    {
                        "sort": (
                            list(DUTY_WORDS).index(duty.duty) if duty.duty in DUTY_WORDS else 9,
                            duty_place(site, duty.duty, duty.station_id, duty.district_id),
                            duty.starts_at,
                        ),
                        "duty": DUTY_WORDS.get(duty.duty, plain(duty.duty)),
                        "where": duty_place(site, duty.duty, duty.station_id, duty.district_id),
                        "officer": _label(officer),
                        "officer_url": _officer_url(officer.officer_id),
                        "when": _when(duty.starts_at, duty.ends_at),
                        "notes": away,
                        "day_url": officers_day.day_url(officer.officer_id, day.isoformat())
                        if duty.duty in APPOINTMENT_DUTIES and may_open_days(request)
                        else None,
                    }
                )
        rows.sort(key=lambda r: r["sort"])
        shown.append({"id": district.id, "name": district.name, "rows": rows})

    def link(d: date) -> str:
        return "/roster?" + urlencode(
            {"day": d.isoformat(), **({"district": district_id} if district_id else {})}
        )

    return render(
        request,
        "roster_day.html",
        title=f"Roster: {spoken_day(day)}",
        day_text=spoken_day(day),
        districts=shown,
        district_id=district_id,
        all_districts=[{"id": d.id, "name": d.name} for d in site.county.districts],
        day=day.isoformat(),
        previous_url=link(day - timedelta(days=1)),
        next_url=link(day + timedelta(days=1)),
        today_url=link(site.today()),
        week_url="/roster/week?"
        + urlencode({"district": district_id or districts[0].id, "from": day.isoformat()}),
        can_change=may_keep_roster(request),
    )


async def week_page(
    site: Site, request: Request, district_id: str | None, first_text: str | None
) -> HTMLResponse:
    """A district's week: each officer with a duty there, and their duty on each of seven days."""
    try:
        first = day_param(first_text, site.today())
    except ValueError:
        return _bad_day(request)
    try:
        district = site.county.district(district_id or site.county.districts[0].id)
    except LookupError:
        return error_page(
            request, 404, "No such district", f"There is no district “{district_id}”.", back="/roster"
        )
    officers = await _officers(site, request)
    if isinstance(officers, HTMLResponse):
        return officers
    days = [first + timedelta(days=n) for n in range(7)]
    rows: list[dict[str, Any]] = []
    for officer in sorted(officers, key=lambda o: o.collar_number):
        cells: list[list[str]] = []
        for day in days:
            lo, hi = _day_bounds(day)
            cells.append(
                [
                    f"{_duty_at(site, d)}, {spoken_range(d.starts_at, d.ends_at)}"
                    + (" (ended early)" if d.ended and d.end_reason != "planned" else "")
                    for d in sorted(officer.duties, key=lambda d: d.starts_at)
                    if d.district_id == district.id and lo <= d.starts_at < hi
                ]
                + [
                    f"Withdrawn {spoken_range(max(w.starts_at, lo), min(w.ends_at, hi))}"
                    for w in officer.withdrawals
                    if _overlaps(w.starts_at, w.ends_at, lo, hi)
                    and any(d.district_id == district.id for d in officer.duties)
                ]
            )
        if any(c for c in cells):
            rows.append(
                {
                    "officer": _label(officer),
                    "officer_url": _officer_url(officer.officer_id),
                    "cells": cells,
                }
            )
    query = {"district": district.id}
    return render(
        request,
        "roster_week.html",
        title=f"Roster: {district.name}, the week from {spoken_day(first)}",
        district_name=district.name,
        first_text=spoken_day(first),
        days=[{"short": f"{d:%a} {d.day}", "long": spoken_day(d)} for d in days],
        rows=rows,
        previous_url="/roster/week?" + urlencode({**query, "from": (first - timedelta(days=7)).isoformat()}),
        next_url="/roster/week?" + urlencode({**query, "from": (first + timedelta(days=7)).isoformat()}),
        day_url="/roster?" + urlencode({**query, "day": first.isoformat()}),
    )


async def _officer(site: Site, request: Request, officer_id: str) -> OfficerAnswer | HTMLResponse:
    try:
        return await site.backends.read(OfficerAnswer, "roster", f"/officers/{quote(officer_id, safe='')}")
    except BackendError as exc:
        if exc.status == 404:
            return error_page(
                request, 404, "No such officer", "The roster has no officer with this id.", back="/roster"
            )
        return backend_error_page(request, exc, "the roster")


async def officer_page(
    site: Site, request: Request, officer_id: str, done: str | None = None, status: int = 200
) -> HTMLResponse:
    """An officer: their duties (an end link on each current one) and withdrawals."""
    officer = await _officer(site, request, officer_id)
    if isinstance(officer, HTMLResponse):
        return officer
    now = site.now()
    base = _officer_url(officer.officer_id)
    duties = [
        {
            "duty": DUTY_WORDS.get(d.duty, plain(d.duty)),
            "where": duty_place(site, d.duty, d.station_id, d.district_id),
            "when": _when(d.starts_at, d.ends_at),
            "starts_iso": d.starts_at.isoformat(),
            "state": (
                f"Ended early: {END_WORDS.get(d.end_reason or '', plain(d.end_reason or 'other')).lower()}"
                if d.ended and d.end_reason != "planned"
                else "Ended"
                if d.ended or d.ends_at <= now
                else "On now"
                if d.starts_at <= now
                else "Planned"
            ),
            "end_url": f"{base}/duties/{quote(d.duty_id, safe='')}/end"
            if not d.ended and d.ends_at > now
            else None,
            "day_url": officers_day.day_url(officer.officer_id, local(d.starts_at).date().isoformat())
            if d.duty in APPOINTMENT_DUTIES and may_open_days(request)
            else None,
        }
        for d in sorted(officer.duties, key=lambda d: d.starts_at)
    ]
    withdrawals = [
        {"when": _when(w.starts_at, w.ends_at), "reason": WITHDRAWAL_WORDS.get(w.reason, plain(w.reason))}
        for w in sorted(officer.withdrawals, key=lambda w: w.starts_at)
    ]
    return render(
        request,
        "roster_officer.html",
        status=status,
        title=f"Officer {_label(officer)}",
        officer=_label(officer),
        home=duty_place(site, "appointments", officer.station_id, officer.district_id),
        duties=duties,
        withdrawals=withdrawals,
        done=done,
        can_change=may_keep_roster(request),
        can_open_days=may_open_days(request),
        assign_url=f"{base}/duties",
        withdraw_url=f"{base}/withdraw",
        roster_url="/roster?" + urlencode({"district": officer.district_id}),
    )


@dataclass(frozen=True)
class Span:
    """A span typed as a London day and two wall-clock times (an end at or before the start: the next day)."""

    starts_at: datetime
    ends_at: datetime


def read_span(form: Mapping[str, str], errors: dict[str, str]) -> Span | None:
    """The day (GOV.UK's date input, ``on-*``) and the ``starts`` and ``ends`` times; errors by field."""
    try:
        day = typed_date(form.get("on-day", ""), form.get("on-month", ""), form.get("on-year", ""), "The day")
    except TypedDateError as exc:
        errors[f"on-{exc.part}"] = str(exc)
        day = None
    walls: dict[str, time] = {}
    for field, what in (("starts", "start"), ("ends", "end")):
        try:
            walls[field] = time_param(form.get(field, ""))
        except ValueError:
            errors[field] = f"Enter the {what} time on the 24-hour clock, for example 17:00"
    if day is None or len(walls) < 2:
        return None
    end_day = day + timedelta(days=1) if walls["ends"] <= walls["starts"] else day
    try:
        return Span(london_instant(day, walls["starts"]), london_instant(end_day, walls["ends"]))
    except LocalTimeError as exc:
        errors["starts"] = str(exc)
        return None


def _span_values(form: Mapping[str, str]) -> dict[str, str]:
    return {k: form.get(k, "").strip() for k in ("on-day", "on-month", "on-year", "starts", "ends")}


def _error_list(errors: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"text": text, "href": f"#{field}"} for field, text in errors.items()]


def _places(site: Site) -> dict[str, str]:
    """Where a duty can be, as the assign form's choices: stations, then districts."""
    stations = {f"station|{s.id}": f"{s.name} police station" for s in site.county.appointment_stations()}
    return stations | {f"district|{d.id}": f"{d.name} district" for d in site.county.districts}


async def assign_page(
    site: Site,
    request: Request,
    officer_id: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The form to put an officer on a duty: which, where, the day and the times."""
    if not may_keep_roster(request):
        return _refuse(request)
    officer = await _officer(site, request, officer_id)
    if isinstance(officer, HTMLResponse):
        return officer
    errors = dict(errors or {})
    return render(
        request,
        "roster_assign.html",
        status=status,
        title=f"Put officer {_label(officer)} on a duty",
        officer=_label(officer),
        action=f"{_officer_url(officer.officer_id)}/duties",
        back_url=_officer_url(officer.officer_id),
        duties=DUTY_WORDS,
        places=_places(site),
        values={"place": f"station|{officer.station_id}", **(values or {})},
        errors=errors,
        error_list=_error_list(errors),
        has_error=bool(errors),
        request_id=secrets.token_hex(16),
    )


async def assign(site: Site, request: Request, officer_id: str) -> Response:
    """The assign form sent: the roster records the duty, or the form says what is wrong (a clash too)."""
    if not may_keep_roster(request):
        return _refuse(request)
    form = await read_form(request)
    if not _csrf_ok(request, form):
        return _expired(request)
    values = {**_span_values(form), "duty": form.get("duty", ""), "place": form.get("place", "")}
    errors: dict[str, str] = {}
    if values["duty"] not in DUTY_WORDS:
        errors["duty"] = "Select the duty"
    kind, _, place_id = values["place"].partition("|")
    if values["place"] not in _places(site):
        errors["place"] = "Select where the duty is"
    elif values["duty"] == "appointments" and kind != "station":
        errors["place"] = "Appointment duty is at a police station: select one"
    span = read_span(form, errors)
    if errors or span is None:
        return await assign_page(site, request, officer_id, values, errors, status=422)
    body: dict[str, Any] = {
        "duty_id": form.get("request_id") or secrets.token_hex(16),
        "duty": values["duty"],
        "starts_at": span.starts_at.isoformat(),
        "ends_at": span.ends_at.isoformat(),
    }
    if kind == "station":
        body["station_id"] = place_id
        if values["duty"] != "appointments":
            body["district_id"] = site.county.station(place_id).district
    else:
        body["district_id"] = place_id
    path = f"{_officer_url(officer_id).removeprefix('/roster')}/duties"
    try:
        status, answer = await site.backends.post("roster", path, body)
    except BackendError as exc:
        return backend_error_page(request, exc, "the roster")
    if status in (200, 201):
        site.officers.forget()
        where = duty_place(site, values["duty"], body.get("station_id"), body.get("district_id") or "")
        done = f"{DUTY_WORDS[values['duty']]}, {where}, {_when(span.starts_at, span.ends_at)}."
        return await officer_page(site, request, officer_id, done=f"On duty: {done}")
    problem = _refusal(request, status, answer)
    if isinstance(problem, HTMLResponse):
        return problem
    field = {"starts_at": "starts", "ends_at": "ends", "station_id": "place", "district_id": "place"}
    shown = {field.get(f, "duty"): why for f, why in problem.items()}
    return await assign_page(site, request, officer_id, values, shown, status=status)


def _refusal(request: Request, status: int, answer: Any) -> HTMLResponse | dict[str, str]:
    """The roster's refusal: a page, or the reasons by the roster's field names for the form."""
    detail = str(answer.get("detail") or "the roster refused it") if isinstance(answer, dict) else "refused"
    if status == 403:
        return _refuse(request)
    if status == 404 and (not isinstance(answer, dict) or "errors" not in answer):
        return error_page(request, 404, "No such officer", f"The roster says: {detail}.", back="/roster")
    if status in (404, 409, 422):
        found = [e for e in (answer.get("errors") or []) if isinstance(e, dict)]
        reasons = {
            str(e.get("field") or "duty").split(".")[-1]: sentence(str(e.get("reason") or detail))
            for e in found
        }
        if status == 409:  # a clash: the roster's sentence names the duty already held
            reasons = {next(iter(reasons), "duty"): f"{sentence(detail)}."}
        return reasons or {"duty": f"{sentence(detail)}."}
    return backend_error_page(request, BackendError("roster", status, detail), "the roster")


async def withdraw_page(
    site: Site,
    request: Request,
    officer_id: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The form to withdraw an officer from appointment duty: the span and the reason."""
    if not may_keep_roster(request):
        return _refuse(request)
    officer = await _officer(site, request, officer_id)
    if isinstance(officer, HTMLResponse):
        return officer
    errors = dict(errors or {})
    return render(
        request,
        "roster_withdraw.html",
        status=status,
        title=f"Withdraw officer {_label(officer)} from appointment duty",
        officer=_label(officer),
        action=f"{_officer_url(officer.officer_id)}/withdraw",
        back_url=_officer_url(officer.officer_id),
        reasons=withdrawal_reasons(),
        values=dict(values or {}),
        errors=errors,
        error_list=_error_list(errors),
        has_error=bool(errors),
        request_id=secrets.token_hex(16),
    )


@dataclass(frozen=True)
class Held:
    """An appointment the officer held when the change was made."""

    appointment_id: str
    place: PlaceView
    starts_at: datetime
    ends_at: datetime
    case_reference: str | None


async def appointments_held(
    site: Site, officer: OfficerAnswer, starts_at: datetime, ends_at: datetime
) -> list[Held] | None:
    """The officer's live appointments from ``starts_at`` to ``ends_at``, from the diaries of the
    places and days their appointment duties cover; None when the diaries cannot be read."""
    wanted: dict[tuple[str, str, date], PlaceView] = {}
    for duty in officer.duties:
        if duty.duty not in APPOINTMENT_DUTIES or not _overlaps(
            duty.starts_at, duty.ends_at, starts_at, ends_at
        ):
            continue
        view = (
            find_place(site.county, "station", duty.station_id or "")
            if duty.duty == "appointments"
            else find_place(site.county, "diary-car", duty.district_id)
        )
        if view is None:
            continue
        day, last = local(max(starts_at, duty.starts_at)).date(), local(min(ends_at, duty.ends_at)).date()
        while day <= last:
            wanted[(view.kind, view.place_id, day)] = view
            day += timedelta(days=1)
    keys = list(wanted)
    try:
        diaries = await asyncio.gather(
            *(
                site.backends.read(DiaryAnswer, "projections", f"{wanted[k].diary_api}/{k[2].isoformat()}")
                for k in keys
            )
        )
    except BackendError:
        return None
    held: dict[str, Held] = {}
    for key, diary in zip(keys, diaries, strict=True):
        for line in diary.appointments:
            if (
                line.officer_id == officer.officer_id
                and line.status in LIVE_STATUSES
                and _overlaps(line.starts_at, line.ends_at, starts_at, ends_at)
            ):
                held[line.appointment_id] = Held(
                    line.appointment_id, wanted[key], line.starts_at, line.ends_at, line.case_reference
                )
    return sorted(held.values(), key=lambda h: h.starts_at)


async def what_booking_did(
    site: Site, request: Request, held: list[Held], cause: str, since: datetime
) -> list[dict[str, Any]]:
    """Each held appointment with what booking did about ``cause`` (a withdrawal id, or
    'duty-ended:<duty id>'), read from its history; waits a few seconds for booking to act."""
    found: dict[str, HistoryAnswer] = {}
    deadline = clock.monotonic() + EFFECT_WAIT_SECONDS
    while True:
        for h in (h for h in held if h.appointment_id not in found):
            path = f"/appointments/{quote(h.appointment_id, safe='')}/history"
            try:
                history = await site.backends.read(list[HistoryAnswer], "projections", path)
            except BackendError:
                continue
            caused = [e for e in history if e.event_type in EFFECT_EVENTS and _caused_by(e, cause, since)]
            if caused:
                found[h.appointment_id] = min(caused, key=lambda e: EFFECT_EVENTS.index(e.event_type))
        if len(found) == len(held) or clock.monotonic() >= deadline:
            break
        await asyncio.sleep(0.3)
    given = (str(e.data.get("to_officer_id") or "") for e in found.values())
    officers = await site.officers.officers(request, given)
    return [_effect(site, h, found.get(h.appointment_id), officers) for h in held]


def _caused_by(event: HistoryAnswer, cause: str, since: datetime) -> bool:
    named = event.data.get("withdrawal_id")
    if isinstance(named, str):
        return named == cause
    # Booking names the withdrawal on what it does; an early end is matched by its reason and time.
    return cause.startswith("duty-ended:") and event.occurred_at >= since - timedelta(seconds=2)


def _effect(site: Site, held: Held, event: HistoryAnswer | None, officers: KnownOfficers) -> dict[str, Any]:
    was = f"{_when(held.starts_at, held.ends_at)}, {held.place.name}"
    row: dict[str, Any] = {
        "was": was,
        "case_reference": held.case_reference,
        "appointment_url": f"/appointments/{quote(held.appointment_id, safe='')}",
        "diary_url": f"{held.place.diary_path}?day={local(held.starts_at).date().isoformat()}",
    }
    if event is None:
        return row | {"outcome": STILL_WORKING, "tag": "govuk-tag--grey", "tag_text": "Being worked out"}
    data = event.data
    if event.event_type == "AppointmentReassigned":
        to = officers.words(str(data.get("to_officer_id") or "")) or "another officer"
        return row | {
            "outcome": f"Given to {to[:1].lower()}{to[1:]} at the same time.",
            "tag": "govuk-tag--green",
            "tag_text": "Reassigned",
        }
    if event.event_type == "AppointmentRescheduled":
        try:
            new = _when(
                datetime.fromisoformat(str(data["starts_at"])), datetime.fromisoformat(str(data["ends_at"]))
            )
        except (KeyError, ValueError):
            new = "a new time"
        told = " The caller is to be told." if data.get("caller_to_be_told") else ""
        return row | {
            "outcome": f"Moved to {new}: nobody was free at the booked time.{told}",
            "tag": "govuk-tag--yellow",
            "tag_text": "Rescheduled",
        }
    if event.event_type == "AppointmentDisplaced":
        return row | {"outcome": NO_TIME, "tag": "govuk-tag--red", "tag_text": "Needs a new time"}
    return row | {"outcome": "Cancelled.", "tag": "govuk-tag--grey", "tag_text": "Cancelled"}


async def withdraw(site: Site, request: Request, officer_id: str) -> Response:
    """The withdraw form sent: the roster records it; the page then shows what booking did."""
    if not may_keep_roster(request):
        return _refuse(request)
    form = await read_form(request)
    if not _csrf_ok(request, form):
        return _expired(request)
    values = {**_span_values(form), "reason": form.get("reason", "")}
    errors: dict[str, str] = {}
    span = read_span(form, errors)
    if values["reason"] not in withdrawal_reasons():
        errors["reason"] = "Select the reason"
    if errors or span is None:
        return await withdraw_page(site, request, officer_id, values, errors, status=422)
    officer = await _officer(site, request, officer_id)
    if isinstance(officer, HTMLResponse):
        return officer
    held = await appointments_held(site, officer, span.starts_at, span.ends_at)
    withdrawal_id = form.get("request_id") or secrets.token_hex(16)
    body = {
        "withdrawal_id": withdrawal_id,
        "reason": values["reason"],
        "starts_at": span.starts_at.isoformat(),
        "ends_at": span.ends_at.isoformat(),
    }
    since = site.now()
    try:
        status, answer = await site.backends.post(
            "roster", f"/officers/{quote(officer_id, safe='')}/withdrawals", body
        )
    except BackendError as exc:
        return backend_error_page(request, exc, "the roster")
    if status not in (200, 201):
        problem = _refusal(request, status, answer)
        if isinstance(problem, HTMLResponse):
            return problem
        field = {"starts_at": "starts", "ends_at": "ends"}
        return await withdraw_page(
            site,
            request,
            officer_id,
            values,
            {field.get(f, "reason"): why for f, why in problem.items()},
            status,
        )
    effects = await what_booking_did(site, request, held or [], withdrawal_id, since)
    return render(
        request,
        "roster_done.html",
        title=f"Officer {_label(officer)} withdrawn",
        heading=f"Officer {_label(officer)} withdrawn",
        summary=f"{_when(span.starts_at, span.ends_at)}: {withdrawal_reasons()[values['reason']].lower()}.",
        effects=effects,
        unknown=held is None,
        officer_url=_officer_url(officer.officer_id),
        diary_urls=_diary_links(site, officer, span),
    )


def _diary_links(site: Site, officer: OfficerAnswer, span: Span) -> list[dict[str, str]]:
    """The diaries of the places and days the officer's appointment duties in ``span`` cover."""
    links: dict[str, str] = {}
    for duty in officer.duties:
        if duty.duty not in APPOINTMENT_DUTIES or not _overlaps(
            duty.starts_at, duty.ends_at, span.starts_at, span.ends_at
        ):
            continue
        view = (
            find_place(site.county, "station", duty.station_id or "")
            if duty.duty == "appointments"
            else find_place(site.county, "diary-car", duty.district_id)
        )
        if view is not None:
            day = local(max(span.starts_at, duty.starts_at)).date()
            links[f"{view.diary_path}?day={day.isoformat()}"] = f"{view.name}, {spoken_day(day)}"
    return [{"href": href, "text": text} for href, text in links.items()]


async def end_page(
    site: Site,
    request: Request,
    officer_id: str,
    duty_id: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The form to end a duty: now or at a time, and why (the roster's code)."""
    if not may_keep_roster(request):
        return _refuse(request)
    officer = await _officer(site, request, officer_id)
    if isinstance(officer, HTMLResponse):
        return officer
    duty = next((d for d in officer.duties if d.duty_id == duty_id), None)
    if duty is None:
        return error_page(
            request,
            404,
            "No such duty",
            "The officer has no duty with this id.",
            back=_officer_url(officer_id),
        )
    errors = dict(errors or {})
    return render(
        request,
        "roster_end.html",
        status=status,
        title=f"End officer {_label(officer)}'s duty",
        officer=_label(officer),
        duty_words=f"{_duty_at(site, duty)}, {_when(duty.starts_at, duty.ends_at)}",
        action=f"{_officer_url(officer.officer_id)}/duties/{quote(duty_id, safe='')}/end",
        back_url=_officer_url(officer.officer_id),
        reasons=end_reasons(),
        values=dict(values or {}),
        errors=errors,
        error_list=_error_list(errors),
        has_error=bool(errors),
    )


async def end(site: Site, request: Request, officer_id: str, duty_id: str) -> Response:
    """The end form sent: the roster ends the duty; an early end shows what booking did."""
    if not may_keep_roster(request):
        return _refuse(request)
    form = await read_form(request)
    if not _csrf_ok(request, form):
        return _expired(request)
    values = {"ends": form.get("ends", "").strip(), "reason": form.get("reason", "")}
    errors: dict[str, str] = {}
    if values["reason"] not in end_reasons():
        errors["reason"] = "Select why the duty ends"
    officer = await _officer(site, request, officer_id)
    if isinstance(officer, HTMLResponse):
        return officer
    duty = next((d for d in officer.duties if d.duty_id == duty_id), None)
    if duty is None:
        return error_page(
            request,
            404,
            "No such duty",
            "The officer has no duty with this id.",
            back=_officer_url(officer_id),
        )
    ends_at: datetime | None = None
    if values["ends"]:
        try:
            wall = time_param(values["ends"])
            day = local(duty.starts_at).date()
            if wall < local(duty.starts_at).time():  # a time before the duty began: the next morning
                day += timedelta(days=1)
            ends_at = london_instant(day, wall)
        except LocalTimeError as exc:
            errors["ends"] = str(exc)
        except ValueError:
            errors["ends"] = "Enter the time on the 24-hour clock, for example 19:00, or leave it empty"
    if errors:
        return await end_page(site, request, officer_id, duty_id, values, errors, status=422)
    since = site.now()
    until = ends_at or since
    held = await appointments_held(site, officer, until, duty.ends_at) if until < duty.ends_at else []
    body: dict[str, Any] = {
        "reason": values["reason"],
        **({"ends_at": ends_at.isoformat()} if ends_at else {}),
    }
    path = f"/officers/{quote(officer_id, safe='')}/duties/{quote(duty_id, safe='')}/end"
    try:
        status, answer = await site.backends.post("roster", path, body)
    except BackendError as exc:
        return backend_error_page(request, exc, "the roster")
    if status != 200:
        problem = _refusal(request, status, answer)
        if isinstance(problem, HTMLResponse):
            return problem
        shown = {("ends" if f == "ends_at" else "reason"): why for f, why in problem.items()}
        return await end_page(site, request, officer_id, duty_id, values, shown, status)
    effects = await what_booking_did(site, request, held or [], f"duty-ended:{duty_id}", since)
    return render(
        request,
        "roster_done.html",
        title=f"Officer {_label(officer)}'s duty ended",
        heading=f"Officer {_label(officer)}'s duty ended",
        summary=f"{DUTY_WORDS.get(duty.duty, plain(duty.duty))} ends at {spoken_time(until)}: "
        f"{end_reasons()[values['reason']].lower()}.",
        effects=effects,
        unknown=held is None,
        officer_url=_officer_url(officer.officer_id),
        diary_urls=_diary_links(site, officer, Span(until, duty.ends_at)) if until < duty.ends_at else [],
    )


async def register_page(
    site: Site,
    request: Request,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The form to register an officer: their collar number, name and home station."""
    if not may_keep_roster(request):
        return _refuse(request)
    errors = dict(errors or {})
    stations = {s.id: f"{s.name} police station" for s in site.county.stations}
    return render(
        request,
        "roster_register.html",
        status=status,
        title="Register an officer",
        stations=stations,
        values=dict(values or {}),
        errors=errors,
        error_list=_error_list(errors),
        has_error=bool(errors),
    )


async def register(site: Site, request: Request) -> Response:
    """The register form sent: the roster records the officer; their page follows."""
    if not may_keep_roster(request):
        return _refuse(request)
    form = await read_form(request)
    if not _csrf_ok(request, form):
        return _expired(request)
    values = {
        "collar_number": form.get("collar_number", "").strip().upper(),
        "name": " ".join(form.get("name", "").split()),
        "station_id": form.get("station_id", ""),
    }
    errors: dict[str, str] = {}
    if not COLLAR.fullmatch(values["collar_number"]):
        errors["collar_number"] = "Enter the collar number, up to 2 letters then 2 to 6 digits, like 4127"
    if not values["name"]:
        errors["name"] = "Enter the officer's name"
    elif len(values["name"]) > NAME_MAX_LENGTH:
        errors["name"] = f"The name must be {NAME_MAX_LENGTH} characters or fewer"
    if values["station_id"] not in {s.id for s in site.county.stations}:
        errors["station_id"] = "Select the officer's home station"
    if errors:
        return await register_page(site, request, values, errors, status=422)
    try:
        status, answer = await site.backends.post("roster", "/officers", values)
    except BackendError as exc:
        return backend_error_page(request, exc, "the roster")
    if status in (200, 201) and isinstance(answer, dict) and answer.get("officer_id"):
        site.officers.forget()
        said = "Registered." if status == 201 else "Already registered: nothing changed."
        return await officer_page(site, request, str(answer["officer_id"]), done=said)
    problem = _refusal(request, status, answer)
    if isinstance(problem, HTMLResponse):
        return problem
    shown = {(f if f in ("station_id", "name") else "collar_number"): why for f, why in problem.items()}
    return await register_page(site, request, values, shown, status=status)
