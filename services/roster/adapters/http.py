"""Roster's HTTP API: supervisors register officers, assign and end duties, withdraw officers.

A repeated request (the same client ids, or the same registration) answers with the
record as it stands and appends nothing: 201 when something new was recorded, 200
when it already was.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from schemas.booking import Place
from services.common.auth import Caller
from services.common.commands import Metadata, TooMuchContention
from services.common.fields import Day, Visible
from services.common.http import Authorized, not_found, problem, unknown
from services.common.logging import correlation_id
from services.common.london import spoken_day
from services.roster.adapters.refusals import status_of
from services.roster.adapters.views import (
    DutyView,
    OfficerView,
    PlaceRoster,
    WithdrawalView,
    cover_view,
    duty_view,
    officer_view,
    withdrawal_view,
)
from services.roster.app.forms import DutyForm, EndDutyForm, OfficerForm, WithdrawalForm
from services.roster.app.handlers import RosterHandlers
from services.roster.domain.commands import AssignDuty, EndDuty, RegisterOfficer, WithdrawOfficer
from services.roster.domain.errors import DutyClash, RosterRefused
from services.roster.domain.ids import officer_id_for
from services.roster.domain.state import Officer

router = APIRouter(tags=["roster"])
OfficerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
DutyId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
PlaceId = Annotated[str, Visible(64)]

# The database went away mid-request: say so (503), never a 500.
UNAVAILABLE = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
)

_READ_REFUSALS: dict[int | str, dict[str, object]] = {
    403: {"description": "The caller's role may not read the roster."},
    404: {"description": "No such officer, station or district."},
    422: {"description": "Refused: the body names the field and the reason."},
    503: {"description": "The roster's database is not answering, or the county has not reached it yet."},
}
_REFUSALS: dict[int | str, dict[str, object]] = {
    200: {"description": "Already recorded (the same ids again): the record as it stands; nothing appended."},
    403: {"description": "Only supervisors (and admin) change the roster."},
    404: {"description": "No such officer (or duty)."},
    409: {"description": "A clash: the body names the duty already held (clashing_duty), or the id used."},
    422: {"description": "Refused: the body names the field and the reason."},
    503: {"description": "The roster's database is not answering, or the county has not reached it yet."},
}


def _handlers(request: Request) -> RosterHandlers:
    handlers: RosterHandlers | None = getattr(request.app.state, "handlers", None)
    if handlers is None:
        raise HTTPException(503, "the roster is starting: its database or Kafka is not up yet")
    return handlers


def _meta(caller: Caller) -> Metadata:
    return Metadata(correlation_id=correlation_id.get() or "none", actor=caller.actor, now=datetime.now(UTC))


def refused(exc: RosterRefused) -> JSONResponse:
    """A refusal as HTTP: the status, the field and the reason, and the clashing duty on a clash."""
    if status_of(exc) == 404:
        return not_found(exc.field, exc.reason)
    errors = [{"field": exc.field, "reason": exc.reason}]
    if isinstance(exc, DutyClash):
        clashing = duty_view(exc.clashing_officer, exc.clashing).model_dump(mode="json")
        return problem(status_of(exc), exc.reason, errors=errors, clashing_duty=clashing)
    return problem(status_of(exc), exc.reason, errors=errors)


async def _decided(
    decision: Awaitable[tuple[Officer, bool]], view: Callable[[Officer], BaseModel], location: str
) -> JSONResponse:
    try:
        officer, recorded = await decision
    except RosterRefused as exc:
        return refused(exc)
    except TooMuchContention as exc:
        return problem(503, str(exc), retry_after_seconds=1)
    except UNAVAILABLE as exc:
        return problem(503, f"the roster's database is not answering ({type(exc).__name__})")
    body = view(officer).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if recorded else 200, headers={"Location": location})


@router.post("/officers", status_code=201, response_model=OfficerView, responses=_REFUSALS)
async def register_officer(request: Request, form: OfficerForm, caller: Authorized) -> object:
    """Register an officer (collar number, home station, name); again with another name, rename them."""
    meta = _meta(caller)
    officer_id = form.officer_id or officer_id_for(form.collar_number)
    command = RegisterOfficer(
        officer_id=officer_id,
        collar_number=form.collar_number,
        station_id=form.station_id,
        district_id=form.district_id,
        name=form.name,
        now=meta.now,
    )
    return await _decided(_handlers(request).register(command, meta), officer_view, f"/officers/{officer_id}")


@router.post("/officers/{officer_id}/duties", status_code=201, response_model=DutyView, responses=_REFUSALS)
async def assign_duty(request: Request, officer_id: OfficerId, form: DutyForm, caller: Authorized) -> object:
    """Put an officer on a duty; 409 names the duty it clashes with."""
    meta = _meta(caller)
    duty_id = form.duty_id or str(uuid.uuid4())
    command = AssignDuty(
        officer_id=officer_id,
        duty_id=duty_id,
        duty=form.duty,
        station_id=form.station_id,
        district_id=form.district_id,
        starts_at=form.starts_at,
        ends_at=form.ends_at,
        now=meta.now,
    )
    return await _decided(
        _handlers(request).assign_duty(command, meta),
        lambda officer: _duty(officer, duty_id),
        f"/officers/{officer_id}",
    )


@router.post("/officers/{officer_id}/duties/{duty_id}/end", response_model=DutyView, responses=_REFUSALS)
async def end_duty(
    request: Request, officer_id: OfficerId, duty_id: DutyId, form: EndDutyForm, caller: Authorized
) -> object:
    """End a duty early or as planned (ending it again changes nothing)."""
    meta = _meta(caller)
    command = EndDuty(
        officer_id=officer_id, duty_id=duty_id, ends_at=form.ends_at, reason=form.reason, now=meta.now
    )
    decision = _handlers(request).end_duty(command, meta)
    response = await _decided(decision, lambda officer: _duty(officer, duty_id), f"/officers/{officer_id}")
    if response.status_code == 201:
        response.status_code = 200  # an ending is a change to the duty, not a new record
    return response


@router.post(
    "/officers/{officer_id}/withdrawals", status_code=201, response_model=WithdrawalView, responses=_REFUSALS
)
async def withdraw_officer(
    request: Request, officer_id: OfficerId, form: WithdrawalForm, caller: Authorized
) -> object:
    """Withdraw an officer from appointment or diary-car duty for a span."""
    meta = _meta(caller)
    withdrawal_id = form.withdrawal_id or str(uuid.uuid4())
    command = WithdrawOfficer(
        officer_id=officer_id,
        withdrawal_id=withdrawal_id,
        starts_at=form.starts_at,
        ends_at=form.ends_at,
        reason=form.reason,
        now=meta.now,
    )
    return await _decided(
        _handlers(request).withdraw(command, meta),
        lambda officer: _withdrawal(officer, withdrawal_id),
        f"/officers/{officer_id}",
    )


def _duty(officer: Officer, duty_id: str) -> DutyView:
    duty = officer.duty(duty_id)
    assert duty is not None, "a decided duty is in the officer's state"
    return duty_view(officer.officer_id, duty)


def _withdrawal(officer: Officer, withdrawal_id: str) -> WithdrawalView:
    withdrawal = officer.withdrawal(withdrawal_id)
    assert withdrawal is not None, "a decided withdrawal is in the officer's state"
    return withdrawal_view(officer.officer_id, withdrawal)


def _check_place(handlers: RosterHandlers, place: Place, place_id: str) -> None:
    """404 for a station or district the county does not have (the same answer on every service)."""
    county = handlers.reference.county  # CountyNotReceived (503) until the county has arrived
    try:
        county.station(place_id) if place == "station" else county.district(place_id)
    except LookupError:
        what = "station" if place == "station" else "district"
        raise unknown("place_id", f"there is no {what} with this id") from None


async def _read(read: Awaitable[object]) -> object:
    try:
        return await read
    except RosterRefused as exc:
        return refused(exc)
    except UNAVAILABLE as exc:
        return problem(503, f"the roster's database is not answering ({type(exc).__name__})")


@router.get("/officers/{officer_id}", response_model=OfficerView, responses=_READ_REFUSALS)
async def officer(request: Request, officer_id: OfficerId, _: Authorized) -> object:
    """An officer with every duty and withdrawal."""

    async def read() -> object:
        return officer_view(await _handlers(request).officer(officer_id))

    return await _read(read())


@router.get("/officers", response_model=list[OfficerView], responses=_READ_REFUSALS)
async def officers(
    request: Request,
    _: Authorized,
    station_id: Annotated[PlaceId | None, Query(description="Only officers based at this station.")] = None,
    district_id: Annotated[PlaceId | None, Query(description="Only officers of this district.")] = None,
) -> object:
    """The officers on the roster, by home station or district."""

    async def read() -> object:
        return [officer_view(o) for o in await _handlers(request).officers(station_id, district_id)]

    return await _read(read())


@router.get("/duties", response_model=PlaceRoster, responses=_READ_REFUSALS)
async def duties(
    request: Request,
    _: Authorized,
    place: Annotated[Place, Query(description="A station's appointments, or a district's diary car.")],
    place_id: Annotated[PlaceId, Query(description="The station id, or the diary car's district id.")],
    day: Annotated[Day, Query(description="The Europe/London date, YYYY-MM-DD.")],
) -> object:
    """Who is on appointment duty at a place on a London day, net of withdrawals."""
    handlers = _handlers(request)
    _check_place(handlers, place, place_id)

    async def read() -> object:
        cover = await handlers.cover(place, place_id, day)
        return PlaceRoster(
            place=place, place_id=place_id, day=spoken_day(day), on_duty=[cover_view(c) for c in cover]
        )

    return await _read(read())
