"""GET /kpis: the commissioner's figures by district and ISO week, for the county, and against go-live.

JSON by default; CSV with ``format=csv`` or ``Accept: text/csv`` (the same columns, one row each).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.common.fields import Day
from services.common.http import Authorized, field_error, plausible_id, problem, unknown
from services.common.london import local
from services.common.runtime import Runtime
from services.projections.adapters import kpis
from services.projections.adapters.county import CountyNotReceived
from services.projections.domain.kpis import COLUMNS, Row

router = APIRouter()
# At most about three years at once: every week of every district is a row.
MAX_DAYS = 3 * 366
# Without a range: the twelve weeks up to today (London).
DEFAULT_DAYS = 12 * 7
CSV = "text/csv"


class KpiRow(BaseModel):
    """A district's (or the county's) week, or a district before or after its go-live date."""

    district_id: str = Field(description='The district, or "county" for the whole county.')
    district_name: str
    period: Literal["week", "before-go-live", "after-go-live"]
    week: str | None = Field(
        description='The ISO week (Europe/London), "2027-W23"; null for a go-live period.'
    )
    from_: date = Field(alias="from", description="The first day counted (appointments first booked for it).")
    to: date = Field(description="The last day counted.")
    goes_live: date | None = Field(description="The district's go-live date (the county's latest version).")
    booked: int
    held_at_booked_time: int = Field(description="Attended at the time first booked (never moved).")
    attended: int
    reassigned: int
    rescheduled_by_police: int
    rescheduled_by_public: int
    cancelled_by_police: int
    cancelled_by_public: int
    missed_by_public: int
    officer_no_shows: int = Field(description="Missed by the police (AppointmentMissed, missed_by police).")
    satisfaction_responses: int
    satisfaction_mean: float | None
    satisfaction_1: int
    satisfaction_2: int
    satisfaction_3: int
    satisfaction_4: int
    satisfaction_5: int
    days_to_appointment_mean: float | None = Field(
        description="From the call (booked_at) to the time booked."
    )
    days_to_appointment_median: float | None
    capacity_offered: int = Field(
        description="Appointment places booking offered on the days (by the day, not the day first booked"
        " for): each slot or diary-car window counted as many times as booking would fill it with a room"
        " (or diary-car visit) and an officer on appointment or diary-car duty, on the day empty."
    )
    capacity_used: int = Field(
        description="Appointments now on those days and not cancelled (to come, attended or missed):"
        " a place booked then cancelled is unused unless booked again; a moved one counts where it is now."
    )
    capacity_use: float | None = Field(
        description="Used over offered, to two places; null when none offered."
    )


class Kpis(BaseModel):
    """The KPIs of the appointments first booked for a day in the range."""

    from_: date = Field(alias="from")
    to: date
    district_id: str | None
    rows: list[KpiRow]


KPI_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The KPIs, as JSON or (format=csv, or Accept: text/csv) as CSV with the same columns.",
        "content": {CSV: {"schema": {"type": "string"}}},
    },
    404: {"description": "No such district: no version of the county has had it."},
    503: {"description": "The database is not answering, or the county has not reached the projections yet."},
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _range(first: date | None, last: date | None) -> tuple[date, date]:
    if last is None:
        last = first + timedelta(days=DEFAULT_DAYS - 1) if first else local(datetime.now(UTC)).date()
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise field_error("from", "the first day comes after the last")
    if (last - first).days >= MAX_DAYS:
        raise field_error("to", f"at most {MAX_DAYS} days at once")
    return first, last


def _csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.flat().items()})
    return out.getvalue()


@router.get("/kpis", response_model=Kpis, responses=KPI_RESPONSES, tags=["kpis"])
async def kpi_report(
    request: Request,
    _: Authorized,
    district: Annotated[
        str | None, Query(description="One district's id; every district and the county without.")
    ] = None,
    from_: Annotated[
        Day | None, Query(alias="from", description="The first day, YYYY-MM-DD (London).")
    ] = None,
    to: Annotated[
        Day | None, Query(description="The last day, YYYY-MM-DD; 12 weeks up to today without either.")
    ] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="csv: the rows as CSV.")] = None,
) -> Kpis | Response:
    """Booked, held at the booked time, reassigned, rescheduled, cancelled, missed, officer no-shows,
    satisfaction, days from call to appointment and use of capacity: by district and ISO week, for the
    county, and each district before and after its go-live date."""
    first, last = _range(from_, to)
    if district is not None and not plausible_id(district):
        raise unknown("district", "there is no district with this id")
    async with _runtime(request).db.acquire() as conn:
        known = await kpis.districts(conn)
        if not known:
            exc = CountyNotReceived()
            response = problem(503, str(exc), retry_after_seconds=exc.retry_after_seconds)
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
            return response
        if district is not None and district not in {d.district_id for d in known}:
            raise unknown("district", "there is no district with this id")
        rows = await kpis.kpis(conn, known, first, last, district)
    wants_csv = format == "csv" or (format is None and CSV in request.headers.get("accept", ""))
    if wants_csv:
        name = f"kpis-{district or 'county'}-{first}-{last}.csv"
        return Response(
            _csv(rows),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Kpis.model_validate(
        {"from": first, "to": last, "district_id": district, "rows": [r.flat() for r in rows]}
    )
