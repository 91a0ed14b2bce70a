"""``GET /access-log``: the auditors' view of who processed whose personal data (DPA 2018 s.62)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from services.common.fields import Day
from services.common.http import Authorized, field_error
from services.common.london import LONDON
from services.common.runtime import Runtime
from services.projections.adapters.access_log import Entry, access_log

router = APIRouter()
_SUBJECT = r"^subject-[0-9a-f]{24}$"


class AccessEntry(BaseModel):
    """One processing of one person's data; the person by subject id only, never their data."""

    at: datetime
    operation: Literal["consultation", "collection", "alteration", "disclosure", "erasure"]
    subject_id: str
    appointment_id: str | None
    by: str | None = Field(description="Who did it: the token's role and subject (e.g. officer:4021).")
    what: str = Field(description="The view opened, or the event that recorded it.")
    channel: str = Field(
        description="The HTTP operation it was read through, or the topic it was recorded on."
    )
    recipient: str | None = Field(description="To whom it was disclosed.")
    event_id: str
    recorded_in: str = Field(
        description="Whose chained event store holds the event: projections (the access log itself),"
        " booking or notifications."
    )


def _entry(e: Entry) -> AccessEntry:
    return AccessEntry(
        at=e.at, operation=e.operation, subject_id=e.subject_id, appointment_id=e.appointment_id, by=e.by,
        what=e.what, channel=e.channel, recipient=e.recipient, event_id=e.event_id, recorded_in=e.recorded_in,
    )  # fmt: skip


@router.get(
    "/access-log",
    response_model=list[AccessEntry],
    responses={422: {"description": "A subject id that is not one, or a range that ends before it starts."}},
    tags=["audit"],
)
async def read_access_log(
    request: Request,
    _: Authorized,
    subject: Annotated[
        str | None,
        Query(
            pattern=_SUBJECT,
            description="A data subject's id: their collections, alterations, consultations,"
            " disclosures and erasure. Without it: every consultation and erasure in the range.",
        ),
    ] = None,
    from_day: Annotated[
        Day | None, Query(alias="from", description="The first London day, YYYY-MM-DD.")
    ] = None,
    to_day: Annotated[Day | None, Query(alias="to", description="The last London day (included).")] = None,
    limit: Annotated[
        int, Query(ge=1, le=5000, description="At most this many entries, oldest first.")
    ] = 1000,
) -> list[AccessEntry]:
    """Who collected, altered, consulted or disclosed whose personal data, when and through what."""
    if from_day is not None and to_day is not None and to_day < from_day:
        raise field_error("to", "the range ends before it starts")
    since = None if from_day is None else datetime.combine(from_day, time(0), LONDON)
    until = None if to_day is None else datetime.combine(to_day + timedelta(days=1), time(0), LONDON)
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.acquire() as conn:
        entries = await access_log(conn, subject, since, until, limit)
    return [_entry(e) for e in entries]
