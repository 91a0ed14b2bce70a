"""Finding appointments: by the briefing's case reference, or by the caller's phone number.

Built only from what the topics said (the projections' ``event_history`` and the diary folded
from it). The phone is never kept in clear anywhere here: booking names every caller by a keyed
hash of their normalised number (``subject_id_for("caller", e164, secret)``, the ``subject_id``
of the events' caller), so a number asked for is normalised and hashed the same way, with the
same key, and the subject ids are looked up; after an erasure the same number is a new subject
(``#1``, ``#2``, ...), so each of those is asked too. The answer holds what a diary line holds
(where, when, status, case reference, officer), never a name, number, address or briefing text.

Who may: call takers, supervisors, auditors and admins find any appointment; an officer finds
only appointments assigned to them (the token's ``sub`` their collar number or roster id, as an
officer's day decides it). Asked by POST, so a phone number never travels in an address (which
servers and browsers keep in their logs and histories).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from schemas.audit import AccessedRecord, PersonalDataAccessed
from services.booking.adapters.personal import InvalidPersonalData, normalise_phone
from services.common.auth import Caller, Role
from services.common.fields import Visible
from services.common.http import Authorized
from services.common.logging import correlation_id, get_logger
from services.common.london import local, spoken_day, spoken_range
from services.common.runtime import Runtime
from services.common.shredding import subject_id_for
from services.projections.adapters.access_log import append_access
from services.projections.adapters.officers_day import is_the_officer

log = get_logger(__name__)
router = APIRouter()
OPERATION = "POST /appointments/search"
# After an erasure the same number is a new subject ("#1", "#2", ...; booking's seal_caller).
GENERATIONS = 50
# At most this many appointments in an answer, latest first: a case or a caller has a handful.
LIMIT = 100
# The events that take a caller's details and briefing (as the partial indexes of 007 and 011 name them).
COLLECTED = ("SlotBooked", "DiaryCarVisitBooked", "WaitlistJoined")


class SearchBody(BaseModel):
    """What to find appointments by: one of a case reference and a phone number."""

    model_config = ConfigDict(extra="forbid")

    case_reference: Annotated[str, Visible(64)] | None = Field(
        default=None, description="The briefing's case reference, as given when booking (any case)."
    )
    phone: Annotated[str, Visible(32)] | None = Field(
        default=None,
        description="The caller's phone number as typed (any UK or E.164 form); found by its keyed hash.",
    )


class FoundAppointment(BaseModel):
    """One appointment found: where and when it is now, as its diary line says; or a waiting-list entry."""

    appointment_id: str
    kind: Literal["appointment", "waitlist"]
    status: str = Field(description="The diary's status, or 'waiting' for a waiting-list entry not offered.")
    case_reference: str | None
    place: str | None
    place_id: str | None
    district_id: str | None
    day: date | None
    day_display: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    local_start: str | None
    when: str | None
    room_id: str | None
    officer_id: str | None


class Found(BaseModel):
    """The appointments found (latest first, at most 100)."""

    searched_by: Literal["case-reference", "phone"]
    appointments: list[FoundAppointment]


def subjects_of(phone: str, secret: str, *, production: bool) -> list[str]:
    """The subject ids a phone number has been, as booking derives them (InvalidPersonalData if none)."""
    e164 = normalise_phone(phone, "phone", production=production)
    return [subject_id_for("caller", e164 if n == 0 else f"{e164}#{n}", secret) for n in range(GENERATIONS)]


# The diary row when there is one (an appointment, or a waiting-list entry offered a slot).
_FOUND = f"""
select c.appointment_id, c.event_type, c.case_reference, c.subject_id, d.place, d.place_id, d.district_id,
       d.local_day, d.starts_at, d.ends_at, d.room_id, d.officer_id, d.status
from (
    select distinct on (appointment_id) appointment_id, event_type,
           data #>> '{{{{briefing,case_reference}}}}' as case_reference,
           data #>> '{{{{caller,subject_id}}}}' as subject_id
    from event_history
    where event_type in ({", ".join(f"'{e}'" for e in COLLECTED)}) and {{condition}}
    order by appointment_id, partition, "offset"
) c left join diary d using (appointment_id)
order by d.starts_at desc nulls first, c.appointment_id
limit {LIMIT}
"""
BY_CASE = _FOUND.format(condition="upper(data #>> '{briefing,case_reference}') = upper($1)")
BY_SUBJECTS = _FOUND.format(condition="data #>> '{caller,subject_id}' = any($1::text[])")


def found_of(row: asyncpg.Record) -> FoundAppointment:
    """One row of the search as the answer's appointment."""
    starts, ends = row["starts_at"], row["ends_at"]
    day: date | None = row["local_day"]
    waiting = row["event_type"] == "WaitlistJoined"
    return FoundAppointment(
        appointment_id=row["appointment_id"],
        kind="waitlist" if waiting and row["status"] in (None, "offered", "lapsed") else "appointment",
        status=row["status"] or ("waiting" if waiting else "booked"),
        case_reference=row["case_reference"], place=row["place"], place_id=row["place_id"],
        district_id=row["district_id"], day=day, day_display=spoken_day(day) if day else None,
        starts_at=starts, ends_at=ends, local_start=local(starts).isoformat() if starts else None,
        when=spoken_range(starts, ends) if starts and ends else None, room_id=row["room_id"],
        officer_id=row["officer_id"],
    )  # fmt: skip


async def _collars(conn: asyncpg.Connection, officer_ids: set[str]) -> dict[str, str]:
    """The roster's collar numbers of these officers (OfficerRegistered, by the officers' index of 007)."""
    rows = await conn.fetch(
        "select data ->> 'officer_id' as officer_id, data ->> 'collar_number' as collar from event_history"
        " where event_type = 'OfficerRegistered' and data ->> 'officer_id' = any($1::text[])",
        sorted(officer_ids),
    )
    return {r["officer_id"]: r["collar"] for r in rows}


async def officers_own(
    conn: asyncpg.Connection, caller: Caller, found: list[FoundAppointment]
) -> list[FoundAppointment]:
    """What an officer may be shown: only the appointments assigned to them; everyone else sees all."""
    if caller.role is not Role.OFFICER:
        return found
    collars = await _collars(conn, {a.officer_id for a in found if a.officer_id})

    def theirs(a: FoundAppointment) -> bool:
        return a.officer_id is not None and is_the_officer(
            caller.subject, a.officer_id, collars.get(a.officer_id)
        )

    return [a for a in found if theirs(a)]


def searched(
    caller: Caller, found: list[FoundAppointment], subjects: dict[str, str | None]
) -> PersonalDataAccessed:
    """The access log's entry of a search by phone: who asked, and whose appointments it showed."""
    records = tuple(AccessedRecord(appointment_id=a.appointment_id, subject_id=subjects.get(a.appointment_id))
                    for a in found)  # fmt: skip
    now = datetime.now(UTC)
    return PersonalDataAccessed(
        accessed_by=caller.subject, role=caller.role.value, view="appointment-search", channel=OPERATION,
        officer_id=None, day=local(now).date().isoformat(), records=records,
        subject_ids=tuple(sorted({r.subject_id for r in records if r.subject_id})), accessed_at=now,
    )  # fmt: skip


def refused(field: str, reason: str) -> HTTPException:
    """A 422 naming the field and the reason (the reason as the detail; the value never repeated)."""
    return HTTPException(422, detail={"detail": reason, "errors": [{"field": field, "reason": reason}]})


SEARCH_RESPONSES: dict[int | str, dict[str, object]] = {
    422: {"description": "Neither or both of case_reference and phone, or a phone that is not a number."},
}


@router.post("/appointments/search", response_model=Found, responses=SEARCH_RESPONSES, tags=["search"])
async def search(request: Request, body: SearchBody, caller: Authorized) -> Found:
    """Appointments by case reference, or by the caller's phone (through its keyed hash), latest first.

    Call takers, supervisors, auditors and admins find any; an officer only those assigned to them.
    The answer holds what a diary line holds: no name, number, address or briefing text.
    """
    if (body.case_reference is None) == (body.phone is None):
        raise refused("case_reference", "give a case reference or a phone number (one of the two)")
    runtime: Runtime = request.app.state.runtime
    cfg = runtime.settings
    argument: str | list[str]
    if body.phone is not None:
        try:
            subjects = subjects_of(body.phone, cfg.token_secret, production=cfg.is_production)
        except InvalidPersonalData as exc:
            raise refused("phone", exc.reason) from None
        query, argument = BY_SUBJECTS, subjects
    else:
        assert body.case_reference is not None
        query, argument = BY_CASE, body.case_reference.strip()
    searched_by: Literal["case-reference", "phone"] = "case-reference" if body.phone is None else "phone"
    async with runtime.db.acquire() as conn:
        rows = await conn.fetch(query, argument)
        found = await officers_own(conn, caller, [found_of(r) for r in rows])
        if body.phone is not None and found:
            # A number tied to its appointments is a consultation of that caller's data (s.62).
            whose = {r["appointment_id"]: r["subject_id"] for r in rows}
            await append_access(conn, searched(caller, found, whose), correlation_id.get())
    # Neither the reference nor the number is logged: only how the search was made and what came back.
    log.info("appointments searched", by=searched_by, role=caller.role.value, found=len(found))
    return Found(searched_by=searched_by, appointments=found)
