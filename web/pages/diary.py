"""The diary page: a station's or diary car's day, live or as it stood at a London moment."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.common.london import local, spoken_day, spoken_moment, spoken_range, spoken_span
from services.common.reference import Station, bank_holiday, weekday_of
from web.answers import (
    DiaryAnswer,
    DiaryLineAnswer,
    FreeSlotAnswer,
    MovedAwayAnswer,
    MovedAwayLineAnswer,
    PlaceRosterAnswer,
)
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.london_input import AsAt, day_param
from web.officers import KnownOfficers, officer_label
from web.pages.site import Site
from web.places import Place, PlaceView, find_place, no_place
from web.rendering import render
from web.words import css_word, plain

STATUS_WORDS = {
    "booked": "Booked",
    "rescheduled": "Rescheduled",
    "awaiting-reschedule": "Needs a new time",
    "cancelled": "Cancelled",
    "attended": "Attended",
    "missed-by-public": "Missed: the caller did not come",
    "missed-by-police": "Missed: no officer came",
}
# GOV.UK Frontend's tag colours by status (booked keeps the default blue).
STATUS_TAGS = {
    "rescheduled": "govuk-tag--yellow",
    "awaiting-reschedule": "govuk-tag--orange",
    "cancelled": "govuk-tag--grey",
    "attended": "govuk-tag--green",
    "missed-by-public": "govuk-tag--red",
    "missed-by-police": "govuk-tag--red",
}


def station_notes(station: Station, day: date) -> list[str]:
    """What a diary page should say about the station's hours on ``day``."""
    notes: list[str] = []
    if station.appointments_from and day < station.appointments_from:
        notes.append(f"Station appointments began on {spoken_day(station.appointments_from)}.")
    hours = station.hours_on(day)
    if hours is None:
        notes.append(f"{station.name} does not take appointments on {weekday_of(day).title()}s.")
    else:
        rooms = ", ".join(r.name.lower() for r in station.rooms)
        notes.append(f"Hourly slots from {spoken_span(hours.first_slot, hours.closes)}, in {rooms}.")
    holiday = bank_holiday(day)
    if holiday:
        opens = "is open" if station.open_on_bank_holidays else "is closed"
        notes.append(f"This is a bank holiday ({holiday}): {station.name} {opens} for appointments.")
    return notes


def _row(site: Site, place: PlaceView, a: DiaryLineAnswer, officers: KnownOfficers) -> dict[str, Any]:
    """One appointment as a diary row; its link carries where and when it is (for moving it)."""
    wall = local(a.starts_at)
    slot = f"{place.kind}|{place.place_id}|{wall.date().isoformat()}|{wall:%H:%M}"
    return {
        "when": spoken_range(a.starts_at, a.ends_at),
        "starts_iso": a.starts_at.isoformat(),
        "status": STATUS_WORDS.get(a.status, plain(a.status)),
        "status_tag": STATUS_TAGS.get(a.status, ""),
        "room": site.room_name(a.room_id),
        "officer": officers.label(a.officer_id),
        "case_reference": a.case_reference,
        "risk": plain(a.thrive_risk) if a.thrive_risk else None,
        "risk_class": css_word(a.thrive_risk or "none"),
        "history_url": f"/appointments/{quote(a.appointment_id, safe='')}?{urlencode({'slot': slot})}",
    }


async def _nothing() -> None:
    return None


async def _on_duty(site: Site, place: PlaceView, day: date) -> list[dict[str, Any]] | None:
    """Who the roster has on appointment duty at the place that day; None when it cannot say."""
    params = {"place": place.kind, "place_id": place.place_id, "day": day.isoformat()}
    try:
        roster = await site.backends.read(PlaceRosterAnswer, "roster", "/duties", params)
    except BackendError:
        return None
    return [
        {
            "officer": officer_label(c.collar_number, c.name),
            "officer_url": f"/roster/officers/{quote(c.officer_id, safe='')}",
            "when": spoken_range(c.duty.starts_at, c.duty.ends_at),
            "available": [spoken_range(s.starts_at, s.ends_at) for s in c.available],
            "away": [
                f"{spoken_range(w.starts_at, w.ends_at)}: {plain(w.reason).lower()}" for w in c.withdrawals
            ],
        }
        for c in sorted(roster.on_duty, key=lambda c: (c.duty.starts_at, c.collar_number))
    ]


async def _free_on(site: Site, place: PlaceView, day: date) -> list[str] | None:
    """The free slots (or windows) booking offers at the place that day; None when it will not say."""
    params = {"from": day.isoformat(), "to": day.isoformat()}
    try:
        slots = await site.backends.read(list[FreeSlotAnswer], "booking", place.free_api, params)
    except BackendError:
        return None
    shown = [
        spoken_range(s.starts_at, s.ends_at)
        + (f", {room.lower()}" if (room := site.room_name(s.room_id)) else "")
        for s in sorted(slots, key=lambda s: s.starts_at)
    ]
    return list(dict.fromkeys(shown))


# How an appointment left the day, in words (booking's RescheduleReason codes; a new code in plain words).
MOVED_WORDS = {
    "caller-asked": "The caller asked to move it",
    "officer-withdrawn": "The officer was withdrawn",
    "duty-ended-early": "The officer's duty ended early",
    "officer-unavailable": "No officer was available",
    "room-unavailable": "The room was not available",
    "station-closed": "The station was closed",
    "other": "Another reason",
}


def _moved_row(
    site: Site, line: MovedAwayLineAnswer, officers: KnownOfficers, day: date, params: dict[str, str]
) -> dict[str, Any]:
    """An appointment moved away from the day: the time it had here, where and when it is now (or was at
    the instant in ``params``, its link to that diary as it stood then too), and why."""
    went = line.went_to
    kind: Place = "diary-car" if went.place == "diary-car" else "station"
    there = find_place(site.county, kind, went.place_id)
    wall = local(went.starts_at)
    slot = f"{kind}|{went.place_id}|{wall.date().isoformat()}|{wall:%H:%M}"
    same_day = wall.date() == day
    reason = MOVED_WORDS.get(line.reason, plain(line.reason)) if line.reason else None
    if reason and line.initiated_by == "police":
        reason = f"Moved by the police: {reason[:1].lower()}{reason[1:]}"
    return {
        "was": spoken_range(line.was_starts_at, line.was_ends_at)
        if line.was_starts_at and line.was_ends_at
        else None,
        "was_iso": line.was_starts_at.isoformat() if line.was_starts_at else None,
        "now_when": spoken_range(went.starts_at, went.ends_at)
        + ("" if same_day else f", {spoken_day(wall.date())}"),
        "now_where": there.name if there else went.place_id,
        "now_url": f"{there.diary_path}?{urlencode({'day': wall.date().isoformat()} | params)}"
        if there
        else None,
        "why": reason,
        "to_be_told": bool(line.caller_to_be_told),
        "status": STATUS_WORDS.get(went.status, plain(went.status)),
        "status_tag": STATUS_TAGS.get(went.status, ""),
        "room": site.room_name(went.room_id),
        "officer": officers.label(went.officer_id),
        "case_reference": line.case_reference,
        "open_url": f"/appointments/{quote(line.appointment_id, safe='')}?{urlencode({'slot': slot})}",
    }


async def _moved_away(
    site: Site, place: PlaceView, day: date, params: dict[str, str]
) -> list[MovedAwayLineAnswer] | None:
    """The appointments moved away from the place's day (as it stood ``at``, when the params hold one);
    None when the projections cannot say."""
    try:
        answer = await site.backends.read(
            MovedAwayAnswer, "projections", f"{place.diary_api}/{day.isoformat()}/moved-away", params
        )
    except BackendError:
        return None
    return answer.moved_away


async def diary_page(
    site: Site, request: Request, kind: Place, place_id: str, day_text: str | None, as_at: AsAt
) -> HTMLResponse:
    """A day's diary, live or as it stood at ``as_at``."""
    place = find_place(site.county, kind, place_id)
    if place is None:
        return no_place(request, kind, place_id)
    try:
        day = day_param(day_text, site.today())
    except ValueError:
        return error_page(
            request,
            422,
            "That is not a date",
            "Give the day as year-month-day, for example 2026-12-02.",
            back=place.diary_path,
        )

    def link(d: date, keep_at: bool = True) -> str:
        query = {"day": d.isoformat()}
        if keep_at and as_at.instant is not None:
            query["at"] = as_at.instant.isoformat()
        return f"{place.diary_path}?{urlencode(query)}"

    context: dict[str, Any] = {
        "title": f"{place.name}: {spoken_day(day)}",
        "place_name": place.name,
        "place": kind,
        "day": day.isoformat(),
        "day_text": spoken_day(day),
        "path": place.diary_path,
        "previous_url": link(day - timedelta(days=1)),
        "next_url": link(day + timedelta(days=1)),
        "today_url": link(site.today()),
        "live_url": link(day, keep_at=False),
        "free_url": place.free_path,
        "notes": station_notes(place.station, day) if place.station else [],
        "as_at": as_at,
        "as_at_text": spoken_moment(as_at.instant) if as_at.instant else None,
        "rows": None,
    }
    if as_at.error:
        return render(request, "diary.html", status=422, **context)
    params = {"at": as_at.instant.isoformat()} if as_at.instant else {}
    path = f"{place.diary_api}/{day.isoformat()}"
    live = as_at.instant is None
    try:
        answer, cover, free, moved = await asyncio.gather(
            site.backends.read(DiaryAnswer, "projections", path, params),
            _on_duty(site, place, day) if live else _nothing(),
            _free_on(site, place, day) if live else _nothing(),
            _moved_away(site, place, day, params),
        )
    except BackendError as exc:
        return backend_error_page(request, exc, "the diary")
    context |= {"live": live, "on_duty": cover, "free": free}
    officers = [a.officer_id for a in answer.appointments] + [m.went_to.officer_id for m in moved or ()]
    known = await site.officers.officers(request, officers)
    context["moved"] = None if moved is None else [_moved_row(site, m, known, day, params) for m in moved]
    context["rows"] = [
        _row(site, place, a, known) for a in sorted(answer.appointments, key=lambda a: a.starts_at)
    ]
    return render(request, "diary.html", **context)
