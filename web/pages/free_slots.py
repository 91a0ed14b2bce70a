"""The free-slots page: the slots (or diary-car windows) booking offers over some days, by day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.common.london import local, spoken_day, spoken_range
from web.answers import FreeSlotAnswer
from web.backends import BackendError
from web.errors import backend_error_page
from web.london_input import TypedDateError, day_param, typed_date
from web.pages.site import Site
from web.places import Place, PlaceView, find_place, no_place
from web.rendering import render

# Keeps a free-slots page readable; a longer range is refused with a message.
MAX_FREE_SLOT_DAYS = 28


def _by_day(site: Site, place: PlaceView, slots: list[FreeSlotAnswer]) -> list[dict[str, Any]]:
    """The slots in time order, grouped by their London day."""
    by_day: dict[date, list[dict[str, Any]]] = {}
    for slot in sorted(slots, key=lambda s: s.starts_at):
        by_day.setdefault(local(slot.starts_at).date(), []).append(
            {
                "when": spoken_range(slot.starts_at, slot.ends_at),
                "starts_iso": slot.starts_at.isoformat(),
                "room": site.room_name(slot.room_id),
            }
        )
    return [
        {"day_text": spoken_day(d), "diary_url": f"{place.diary_path}?day={d.isoformat()}", "slots": s}
        for d, s in by_day.items()
    ]


async def free_page(
    site: Site, request: Request, kind: Place, place_id: str, first_text: str | None, last_text: str | None
) -> HTMLResponse:
    """The free slots (or diary-car windows) booking offers over a range of days, grouped by day."""
    place = find_place(site.county, kind, place_id)
    if place is None:
        return no_place(request, kind, place_id)
    noun = "slots" if kind == "station" else "home-visit windows"
    context: dict[str, Any] = {
        "title": f"Free {noun}: {place.name}",
        "place_name": place.name,
        "noun": noun,
        "path": place.free_path,
        "from_text": first_text or "",
        "to_text": last_text or "",
        "range_text": None,
        "error": None,
        "error_field": None,
        "days": None,
        "typed": {},
    }

    # GOV.UK's date input (day, month and year boxes); year-month-day in `from` and `to` is read too.
    typed = {
        end: {part: request.query_params.get(f"{end}-{part}", "") for part in ("day", "month", "year")}
        for end in ("from", "to")
    }
    context["typed"] = typed

    def refuse(field: str, why: str) -> HTMLResponse:
        context.update(error=why, error_field=field if "-" in field else f"{field}-day")
        return render(request, "free_slots.html", status=422, **context)

    def boxes(end: str, words: str) -> date | None:
        parts = typed[end]
        if not any(parts.values()):
            return None
        return typed_date(parts["day"], parts["month"], parts["year"], words)

    try:
        first = boxes("from", "The first day") or day_param(first_text, site.today())
    except TypedDateError as exc:
        return refuse(f"from-{exc.part}", str(exc))
    except ValueError:
        return refuse("from", "Enter the first day as year-month-day, for example 2026-12-02.")
    try:
        last = boxes("to", "The last day") or day_param(last_text, first + timedelta(days=6))
    except TypedDateError as exc:
        return refuse(f"to-{exc.part}", str(exc))
    except ValueError:
        return refuse("to", "Enter the last day as year-month-day, for example 2026-12-08.")
    for end, day in (("from", first), ("to", last)):
        typed[end] = {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
    context.update(
        from_text=first.isoformat(),
        to_text=last.isoformat(),
        range_text=f"{spoken_day(first)} to {spoken_day(last)}",
    )
    if last < first:
        return refuse("to", "The last day must be the same as or after the first day.")
    if (last - first).days >= MAX_FREE_SLOT_DAYS:
        return refuse("to", f"Choose at most {MAX_FREE_SLOT_DAYS} days at a time.")
    params = {"from": f"{first}", "to": f"{last}"}
    try:
        slots = await site.backends.read(list[FreeSlotAnswer], "booking", place.free_api, params)
    except BackendError as exc:
        if exc.status in (400, 409, 422):
            # Booking refuses a range it will not offer (not live yet, in the past): say why on the form.
            return refuse("from", f"{exc.detail}.")
        return backend_error_page(request, exc, "the free slots")
    context["days"] = _by_day(site, place, slots)
    return render(request, "free_slots.html", **context)
