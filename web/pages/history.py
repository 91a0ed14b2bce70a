"""The history page: an appointment's events as a timeline of when, what and who."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.common.logging import get_logger
from services.common.london import local, spoken_moment
from web.answers import HistoryAnswer
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.officers import KnownOfficers
from web.pages import events
from web.pages.attendance import attendance_link, may_attend
from web.pages.book import Choice, _slot_words, may_book
from web.pages.change import change_links, where_now
from web.pages.site import Site
from web.places import find_place
from web.rendering import render

log = get_logger(__name__)


def _diary_link(site: Site, data: Mapping[str, Any]) -> str | None:
    """The diary page an event puts the appointment in, when it says where and when."""
    starts = data.get("starts_at") or data.get("window_starts_at")
    try:
        day = local(datetime.fromisoformat(starts)).date() if isinstance(starts, str) else None
    except ValueError:
        return None
    station_id, district_id = data.get("station_id"), data.get("district_id")
    if day is None:
        return None
    if isinstance(station_id, str) and find_place(site.county, "station", station_id):
        return f"/stations/{quote(station_id, safe='')}/diary?day={day.isoformat()}"
    if isinstance(data.get("diary_car_id"), str) and isinstance(district_id, str):
        return f"/diary-cars/{quote(district_id, safe='')}/diary?day={day.isoformat()}"
    return None


def _item(site: Site, e: HistoryAnswer, officers: KnownOfficers) -> dict[str, Any]:
    """One event as a timeline entry."""
    try:
        details = events.details(e.event_type, e.data, site.county, officers)
    except Exception:
        # An unexpected event shape must not hide the rest of the history.
        log.exception("could not describe an event", event_id=e.event_id)
        details = []
    return {
        "when": spoken_moment(e.occurred_at),
        "when_iso": e.occurred_at.isoformat(),
        "what": events.what(e.event_type),
        "who": events.who(e.actor, e.source, officers),
        "through": events.through(e.channel),
        "details": details,
    }


async def history_page(site: Site, request: Request, appointment_id: str) -> HTMLResponse:
    """An appointment's history as a timeline: when, what, and who; and, for those who book,
    moving or cancelling it (a call taker, who may not read histories, sees only those)."""
    path = f"/appointments/{quote(appointment_id, safe='')}/history"
    hint = Choice.parse(request.query_params.get("slot"))
    try:
        answer = await site.backends.read(list[HistoryAnswer], "projections", path)
    except BackendError as exc:
        # A call taker may move or cancel it, an officer from the diary record what happened:
        # neither may read the history, so the page shows only where and when, and what they may do.
        if exc.status == 403 and (may_book(request) or (may_attend(request) and hint)):
            return render(
                request,
                "history.html",
                title=f"Appointment {appointment_id}",
                appointment_id=appointment_id,
                case_reference=None,
                diary_url=None,
                items=None,
                slot_words=_slot_words(site, hint) if hint else None,
                attendance_url=attendance_link(request, appointment_id, hint, closed=False),
                **change_links(request, appointment_id, hint, cancelled=False),
            )
        if exc.status == 404:
            return error_page(
                request,
                404,
                "No such appointment",
                f"There is no appointment with the reference “{appointment_id}”.",
                back="/",
            )
        return backend_error_page(request, exc, "the appointment's history")
    case_reference: str | None = None
    diary_url: str | None = None
    timeline = sorted(answer, key=lambda e: e.occurred_at)
    for e in timeline:
        briefing = e.data.get("briefing")
        if case_reference is None and isinstance(briefing, dict):
            found = briefing.get("case_reference")
            case_reference = found if isinstance(found, str) else None
        diary_url = _diary_link(site, e.data) or diary_url
    now = where_now(site, [e.data for e in timeline], hint)
    cancelled = any(e.event_type == "AppointmentCancelled" for e in timeline)
    closed = cancelled or any(e.event_type in ("AppointmentAttended", "AppointmentMissed") for e in timeline)
    named = ("officer_id", "from_officer_id", "to_officer_id")
    officers = await site.officers.officers(
        request,
        (str(e.data.get(k) or "") for e in timeline for k in named),
        (e.actor.partition(":")[2] for e in timeline if e.actor),
    )
    return render(
        request,
        "history.html",
        title=f"Appointment {appointment_id}",
        appointment_id=appointment_id,
        case_reference=case_reference,
        diary_url=diary_url,
        items=[_item(site, e, officers) for e in timeline],
        slot_words=_slot_words(site, now) if now and not cancelled else None,
        attendance_url=attendance_link(request, appointment_id, now, closed),
        **change_links(request, appointment_id, now, cancelled),
    )
