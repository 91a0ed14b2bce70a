"""The staff directory over HTTP: people name themselves as they sign in; staff read the names.

``PUT /staff/me`` records the name the caller signed in with, under their token's subject and
role (so nobody can name anyone else); the pages send it at every sign-in, and the roster records
a ``StaffMemberNamed`` only when the name (or role) is new or changed: 201 then, 200 when it was
already so. ``GET /staff`` lists everyone named, for the roles that read the roster's officers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from schemas.roster import SUBJECT_MAX_LENGTH, StaffRole
from services.common.auth import Role
from services.common.commands import Metadata, TooMuchContention
from services.common.http import Authorized, problem
from services.common.logging import correlation_id, get_logger
from services.roster.adapters.http import UNAVAILABLE, _handlers
from services.roster.app.forms import StaffNameForm
from services.roster.domain.staff import NameStaffMember

router = APIRouter(tags=["staff"])
log = get_logger(__name__)

_REFUSALS: dict[int | str, dict[str, object]] = {
    200: {"description": "Already recorded so: nothing appended."},
    403: {"description": "A system's token (the SMS gateway's) names no person."},
    422: {"description": "Refused: the body names the field and the reason."},
    503: {"description": "The roster's database is not answering."},
}


class StaffView(BaseModel):
    """A person who signs in, by the subject their tokens carry: their name and role."""

    subject: str = Field(description="The sign-in subject (tokens' sub; events' actor after the role).")
    name: str
    role: StaffRole


@router.put("/staff/me", status_code=201, response_model=StaffView, responses=_REFUSALS)
async def name_me(request: Request, form: StaffNameForm, caller: Authorized) -> object:
    """Record the name you signed in with, under your token's subject and role."""
    if caller.role is Role.GATEWAY:  # the matrix refuses it too; a system is never staff
        return problem(403, "a system's token names no person")
    if len(caller.subject) > SUBJECT_MAX_LENGTH:
        errors = [{"field": "sub", "reason": f"the token's subject is over {SUBJECT_MAX_LENGTH} characters"}]
        return problem(422, errors[0]["reason"], errors=errors)
    now = datetime.now(UTC)
    meta = Metadata(correlation_id=correlation_id.get() or "none", actor=caller.actor, now=now)
    role: StaffRole = caller.role.value  # type: ignore[assignment]  # every role but the gateway's
    command = NameStaffMember(subject=caller.subject, role=role, name=form.name, now=now)
    try:
        person, recorded = await _handlers(request).name_staff_member(command, meta)
    except TooMuchContention as exc:
        return problem(503, str(exc), retry_after_seconds=1)
    except UNAVAILABLE as exc:
        return problem(503, f"the roster's database is not answering ({type(exc).__name__})")
    if recorded:
        log.info("staff member named", role=role)  # never the name or the subject
    assert person.name is not None and person.role is not None, "a decided name is in the state"
    body = StaffView(subject=person.subject, name=person.name, role=person.role).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if recorded else 200)


@router.get("/staff", response_model=list[StaffView], responses={k: _REFUSALS[k] for k in (403, 503)})
async def staff(request: Request, _: Authorized) -> object:
    """Everyone who has signed in, by subject: the names the pages show for who did what."""
    try:
        found = await _handlers(request).staff()
    except UNAVAILABLE as exc:
        return problem(503, f"the roster's database is not answering ({type(exc).__name__})")
    return [StaffView(subject=s, name=n, role=r) for s, n, r in found]
