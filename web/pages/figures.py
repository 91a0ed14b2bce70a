"""The commissioner's figures: projections' ``GET /kpis`` by district and ISO week, for the county,
and each district before and after its go-live, as charts drawn on the server (SVG, web.pages.charts)
with a table of the same figures beside each, readable without JavaScript; and the same rows as CSV
(the endpoint's ``format=csv``), downloaded through the pages with the person's own token.

For supervisors, auditors and admins, as the projections allow (the role matrix's ``GET /kpis``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from services.common.london import spoken_day
from services.common.roles import ROLE_MATRIX
from web.answers import KpiRowAnswer
from web.backends import BackendError
from web.errors import backend_error_page, error_page
from web.pages.charts import Series, grouped_bars
from web.pages.ranges import read_range
from web.pages.site import Site
from web.rendering import render

KPIS = "GET /kpis"
COUNTS = (
    Series("Booked", "#1d70b8"),
    Series("Held at the booked time", "#00703c"),
    Series("Cancelled by the police", "#d4351c"),
    Series("Cancelled by the public", "#4c2c92"),
)
SATISFACTION = (Series("Mean satisfaction (1 to 5)", "#505a5f"),)
CAPACITY = (Series("Places offered", "#5694ca"), Series("Places used", "#003078"))
PERIODS = {"before-go-live": "Before go-live", "after-go-live": "After go-live"}


def may_see_figures(request: Request) -> bool:
    """Whether the signed-in person's role may read the KPIs (the projections' own rule)."""
    return bool(request.state.session.role in ROLE_MATRIX["projections"][KPIS])


def _counts(row: KpiRowAnswer) -> list[float]:
    return [row.booked, row.held_at_booked_time, row.cancelled_by_police, row.cancelled_by_public]


def _share(part: int, whole: int) -> str:
    return f"{part} ({round(100 * part / whole)}%)" if whole else str(part)


def _use(row: KpiRowAnswer) -> str:
    """Use of capacity in words: "6 of 10 (60%)"; what was used where nothing was offered, said so."""
    used, offered = row.capacity_used, row.capacity_offered
    if offered:
        return f"{used} of {offered} ({round(100 * used / offered)}%)"
    return f"{used} used, none offered" if used else "None offered"


def _line(row: KpiRowAnswer, label: str) -> dict[str, Any]:
    """A row of a figures table."""
    return {
        "label": label,
        "range": f"{spoken_day(date.fromisoformat(row.from_))} to {spoken_day(date.fromisoformat(row.to))}",
        "booked": row.booked,
        "held": _share(row.held_at_booked_time, row.booked),
        "attended": row.attended,
        "cancelled_police": _share(row.cancelled_by_police, row.booked),
        "cancelled_public": _share(row.cancelled_by_public, row.booked),
        "missed": row.missed_by_public + row.officer_no_shows,
        "satisfaction": (
            f"{row.satisfaction_mean:g} from {row.satisfaction_responses}"
            if row.satisfaction_mean is not None
            else "No scores"
        ),
        "use": _use(row),
    }


def _week_label(week: str | None) -> str:
    return (week or "").split("-")[-1]  # "2027-W33" -> "W33"


def _block(rows: Sequence[KpiRowAnswer], labels: Sequence[str]) -> dict[str, Any]:
    """A chart of the counts, one of satisfaction, one of use of capacity, and the table beside them."""
    return {
        "counts": grouped_bars(labels, COUNTS, [_counts(r) for r in rows]),
        "satisfaction": grouped_bars(labels, SATISFACTION, [[r.satisfaction_mean or 0] for r in rows], top=5),
        "capacity": grouped_bars(labels, CAPACITY, [[r.capacity_offered, r.capacity_used] for r in rows]),
        "lines": [_line(r, label) for r, label in zip(rows, labels, strict=True)],
    }


def _query(district: str | None, first: date | None, last: date | None) -> dict[str, str]:
    found = {"district": district or ""}
    if first:
        found["from"] = first.isoformat()
    if last:
        found["to"] = last.isoformat()
    return {k: v for k, v in found.items() if v}


def _refuse(request: Request) -> HTMLResponse:
    why = "The figures are for supervisors, auditors and the commissioner's office."
    return error_page(request, 403, "You cannot see the figures", why, back="/")


async def figures_page(site: Site, request: Request) -> HTMLResponse:
    """The KPIs of the range (twelve weeks to today unless typed) for the county or one district."""
    if not may_see_figures(request):
        return _refuse(request)
    query = dict(request.query_params)
    district_id = query.get("district") or None
    districts = {d.id: d.name for d in site.county.districts}
    typed = read_range(query, None, site.today())
    context: dict[str, Any] = {
        "title": "Figures",
        "range": typed,
        "districts": districts,
        "district_id": district_id,
        "district_name": districts.get(district_id or "", district_id),
        "error_list": typed.error_list,
        "has_error": bool(typed.errors),
    }
    if district_id is not None and district_id not in districts:
        return error_page(
            request, 404, "No such district", f"There is no district “{district_id}”.", back="/figures"
        )
    if typed.errors:
        return render(request, "figures.html", status=422, **context)
    try:
        answer = await site.backends.get("projections", "/kpis", _query(district_id, typed.first, typed.last))
        rows = [KpiRowAnswer.model_validate(r) for r in answer["rows"]]
        first, last = date.fromisoformat(answer["from"]), date.fromisoformat(answer["to"])
    except BackendError as exc:
        if exc.status == 422:
            typed.errors["to-day"] = f"{exc.detail}."
            context.update(error_list=typed.error_list, has_error=True)
            return render(request, "figures.html", status=422, **context)
        return backend_error_page(request, exc, "the figures")
    except (KeyError, TypeError, ValueError):
        return backend_error_page(
            request, BackendError("projections", 502, "answered in an unknown shape"), "the figures"
        )
    if not any(typed.typed["from"].values()):
        typed.typed["from"] = {"day": str(first.day), "month": str(first.month), "year": str(first.year)}
    scope = district_id or "county"
    weeks = [r for r in rows if r.district_id == scope and r.period == "week"]
    periods = [r for r in rows if r.period in PERIODS]
    context.update(
        range_text=f"{spoken_day(first)} to {spoken_day(last)}",
        weeks=_block(weeks, [_week_label(r.week) for r in weeks]),
        go_live=[
            {
                "district": r.district_name,
                "goes_live": spoken_day(date.fromisoformat(r.goes_live)) if r.goes_live else "Not known",
                **_line(r, PERIODS[r.period]),
            }
            for r in periods
        ],
        go_live_block=_block(periods, [PERIODS[r.period] for r in periods]) if district_id else None,
        district_links=[
            {"name": name, "url": "/figures?" + urlencode(_query(d, first, last))}
            for d, name in districts.items()
        ],
        csv_url="/figures.csv?" + urlencode(_query(district_id, first, last)),
    )
    return render(request, "figures.html", **context)


async def figures_csv(site: Site, request: Request) -> Response:
    """The same figures as CSV, as the projections write it (one row a line, the same columns)."""
    if not may_see_figures(request):
        return _refuse(request)
    wanted = {k: v for k, v in request.query_params.items() if k in ("district", "from", "to") and v}
    try:
        body, disposition = await site.backends.get_text("projections", "/kpis", {**wanted, "format": "csv"})
    except BackendError as exc:
        return backend_error_page(request, exc, "the figures")
    headers = {"Content-Disposition": disposition or 'attachment; filename="kpis.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
