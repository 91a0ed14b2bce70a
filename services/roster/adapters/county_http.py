"""The county in force at the roster, over HTTP; and 503 for commands that need it before it arrives."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.common.http import Authorized, problem
from services.roster.app.county import CountyNotReceived
from services.roster.app.handlers import RosterHandlers

router = APIRouter(tags=["reference"])


class CountyVersion(BaseModel):
    """Which version of the county's reference data the roster checks duties against."""

    county: str
    sha256: str = Field(description="The fingerprint booking recorded (CountyReferenceLoaded).")
    loaded_at: datetime
    stations: list[str]
    districts: list[str]


@router.get(
    "/reference/county",
    response_model=CountyVersion,
    responses={503: {"description": "No version of the county has reached the roster yet."}},
)
async def county_in_force(request: Request, _: Authorized) -> CountyVersion:
    """The version of the county in force at the roster."""
    handlers: RosterHandlers | None = getattr(request.app.state, "handlers", None)
    if handlers is None:
        raise HTTPException(503, "the roster is starting: its database or Kafka is not up yet")
    current = handlers.reference.current
    if current is None:
        raise CountyNotReceived()
    return CountyVersion(
        county=current.county.name,
        sha256=current.sha256,
        loaded_at=current.loaded_at,
        stations=[s.id for s in current.county.stations],
        districts=[d.id for d in current.county.districts],
    )


async def county_not_received(_: Request, exc: Exception) -> JSONResponse:
    """A command that needs the county, before it has arrived: 503 with a retry hint, never a 500."""
    assert isinstance(exc, CountyNotReceived)
    seconds = exc.retry_after_seconds
    response = problem(503, str(exc), retry_after_seconds=seconds)
    response.headers["Retry-After"] = str(seconds)
    return response
