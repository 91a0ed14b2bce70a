"""An officer's day with briefings: each appointment, its place and time, the caller, the briefing.

The diary rows say which appointments are the officer's on a London day; the booking event
recorded for each (``SlotBooked`` or ``DiaryCarVisitBooked``) holds the caller and the briefing,
sealed under the caller's key, opened here with the key store's keys (read-only). An erased
caller shows as erased. Opened only for the officer assigned, their supervisors, auditors and
admins; every opening is written to the access log before the answer goes.

**Which officer a token is.** A token's ``sub`` names the roster officer whose collar number it
is, optionally after a rank prefix and a hyphen, in any case: ``4021``, ``pc-4021`` and
``PC-4021`` are all collar number 4021 (the local tokens' ``--sub 4021``, the pages' users such as
``pc-4021``); a ``sub`` equal to the roster's officer id names that officer too. The collar
number is the roster's ``OfficerRegistered``; the identity provider must put it in ``sub``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from schemas import booking as ev
from schemas.audit import AccessedRecord, PersonalDataAccessed
from schemas.base import parse_event
from services.common.auth import Caller, Role, collar_of
from services.common.config import Settings
from services.common.fields import Day
from services.common.http import Authorized, plausible_id, problem, unknown
from services.common.logging import correlation_id, get_logger
from services.common.london import local, spoken_day, spoken_range
from services.common.runtime import Runtime
from services.projections.adapters.access_log import append_access
from services.projections.adapters.batch import entry_of
from services.projections.adapters.keys import ReadOnlyKeys, open_keys, opened
from services.projections.domain.diary import DiaryEntry

log = get_logger(__name__)
router = APIRouter()
OPERATION = "GET /officers/{officer_id}/days/{day}"
# What an officer attends: a cancelled, lapsed or displaced appointment needs no briefing.
ATTENDED = ("booked", "rescheduled", "attended", "missed-by-public", "missed-by-police")

# The key store's readers, by the runtime they were wired for (one per process).
_KEYS: dict[int, KeyStoreReader] = {}
KEYS_RETRY_MAX_SECONDS = 30.0


class KeyStoreReader:
    """The key store opened in the background: the read models never wait for it.

    Until it is open (the key store's server down, its grant not yet possible) an officer's
    day answers 503; the consumers and every other view carry on.
    """

    def __init__(self) -> None:
        self.keys: ReadOnlyKeys | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, cfg: Settings) -> None:
        """Open the key store, trying again (backing off to 30 s) until it opens."""
        self._task = asyncio.create_task(self._open(cfg), name="projections-keystore")

    async def _open(self, cfg: Settings) -> None:
        delay = 0.5
        while self.keys is None:
            try:
                self.keys = await open_keys(cfg)
            except Exception as exc:  # any failure: say so, and try again
                log.warning(
                    "the key store cannot be opened yet; retrying", error=type(exc).__name__, delay=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, KEYS_RETRY_MAX_SECONDS)

    async def close(self) -> None:
        """Stop trying, and close the pool if it opened."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.keys is not None:
            await self.keys.close()


async def wire_keys(runtime: Runtime, cleanups: AsyncExitStack) -> None:
    """Open the key store on the projections' role (granting it read-only first); closed on the way out."""
    reader = KeyStoreReader()
    _KEYS[id(runtime)] = reader
    reader.start(runtime.settings)

    async def close() -> None:
        _KEYS.pop(id(runtime), None)
        await reader.close()

    cleanups.push_async_callback(close)


def is_the_officer(subject: str, officer_id: str, collar_number: str | None) -> bool:
    """Whether a token's subject is this roster officer: their id, or their collar number."""
    if subject == officer_id:
        return True
    return collar_number is not None and collar_of(subject) == collar_number.upper()


class CallerInClear(BaseModel):
    """Who the appointment is with, opened; all None once the caller has been erased."""

    subject_id: str
    erased: bool
    name: str | None
    phone: str | None
    address: str | None = Field(description="Only for a diary car's home visit.")


class BriefingInClear(BaseModel):
    """The briefing, opened (its free texts None once the caller has been erased)."""

    case_reference: str
    summary: str | None
    background: str | None
    vulnerability: str | None
    access_needs: str | None
    vulnerability_flags: list[str]
    thrive_risk: str
    preferred_contact: str
    language: str
    interpreter_needed: bool
    safe_to_text: bool
    safe_to_call: bool


class OfficersAppointment(BaseModel):
    """One appointment of the officer's day: where, when, with whom, and the briefing."""

    appointment_id: str
    place: str
    place_id: str
    district_id: str | None
    diary_car_id: str | None
    room_id: str | None
    starts_at: datetime
    ends_at: datetime
    local_start: str
    when: str
    status: str
    caller: CallerInClear | None
    briefing: BriefingInClear | None


class OfficersDay(BaseModel):
    """An officer's appointments on one London day, briefed."""

    officer_id: str
    collar_number: str | None
    day: date
    day_display: str
    appointments: list[OfficersAppointment]


Booked = ev.SlotBooked | ev.DiaryCarVisitBooked


async def _collar_number(conn: asyncpg.Connection, officer_id: str) -> tuple[bool, str | None]:
    """(whether the officer is known, their collar number): from the roster's OfficerRegistered."""
    collar: str | None = await conn.fetchval(
        "select data ->> 'collar_number' from event_history"
        " where event_type = 'OfficerRegistered' and data ->> 'officer_id' = $1"
        ' order by partition, "offset" desc limit 1',
        officer_id,
    )
    if collar is not None:
        return True, collar
    # An officer on a duty the roster recorded before registrations were kept: known by the diary.
    return bool(await conn.fetchval("select true from diary where officer_id = $1 limit 1", officer_id)), None


async def _bookings(conn: asyncpg.Connection, appointments: list[str]) -> dict[str, Booked]:
    rows = await conn.fetch(
        "select appointment_id, event_type, schema_version, data::text as data from event_history"
        " where appointment_id = any($1::text[]) and event_type in ('SlotBooked', 'DiaryCarVisitBooked')"
        ' order by partition, "offset"',
        appointments,
    )
    found: dict[str, Booked] = {}
    for row in rows:
        event = parse_event(row["event_type"], row["schema_version"], json.loads(row["data"]))
        assert isinstance(event, ev.SlotBooked | ev.DiaryCarVisitBooked)
        found[row["appointment_id"]] = event
    return found


def briefed(entry: DiaryEntry, booked: Booked | None, keys: dict[str, bytes | None]) -> OfficersAppointment:
    """One diary entry with its caller and briefing opened by ``keys`` (pure: no key store here)."""
    caller = briefing = None
    if booked is not None:
        c, b = booked.caller, booked.briefing
        erased = keys.get(c.subject_id) is None
        visit = isinstance(booked, ev.DiaryCarVisitBooked)
        caller = CallerInClear(
            subject_id=c.subject_id, erased=erased, name=opened(keys, c.name), phone=opened(keys, c.phone),
            address=opened(keys, c.address) if visit else None,
        )  # fmt: skip
        briefing = BriefingInClear(
            case_reference=b.case_reference, summary=opened(keys, b.summary),
            background=opened(keys, b.background), vulnerability=opened(keys, b.vulnerability),
            access_needs=opened(keys, b.access_needs), vulnerability_flags=list(b.vulnerability_flags),
            thrive_risk=b.thrive_risk, preferred_contact=b.preferred_contact, language=b.language,
            interpreter_needed=b.interpreter_needed, safe_to_text=b.safe_to_text, safe_to_call=b.safe_to_call,
        )  # fmt: skip
    return OfficersAppointment(
        appointment_id=entry.appointment_id, place=entry.place, place_id=entry.place_id,
        district_id=entry.district_id, diary_car_id=entry.diary_car_id, room_id=entry.room_id,
        starts_at=entry.starts_at, ends_at=entry.ends_at, local_start=local(entry.starts_at).isoformat(),
        when=spoken_range(entry.starts_at, entry.ends_at), status=entry.status, caller=caller,
        briefing=briefing,
    )  # fmt: skip


def accessed(
    caller: Caller, officer_id: str, day: date, shown: list[OfficersAppointment]
) -> PersonalDataAccessed:
    """The access log's entry for an opening: who, whose (subject ids only), which appointments."""
    records = tuple(
        AccessedRecord(appointment_id=a.appointment_id, subject_id=a.caller.subject_id if a.caller else None)
        for a in shown
    )
    return PersonalDataAccessed(
        accessed_by=caller.subject, role=caller.role.value, view="officers-day", channel=OPERATION,
        officer_id=officer_id, day=day.isoformat(), records=records,
        subject_ids=tuple(sorted({r.subject_id for r in records if r.subject_id})),
        accessed_at=datetime.now(UTC),
    )  # fmt: skip


RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The token's role may not open officers' days, or it is another officer's day."},
    404: {"description": "No such officer: the roster has registered none with this id."},
}
DayPath = Annotated[Day, Path(description="The Europe/London date, YYYY-MM-DD.")]


@router.get(
    "/officers/{officer_id}/days/{day}", response_model=OfficersDay, responses=RESPONSES, tags=["officers"]
)
async def officers_day(
    request: Request, officer_id: str, day: DayPath, caller: Authorized
) -> OfficersDay | JSONResponse:
    """An officer's appointments on a day with the caller and the briefing in clear.

    For the officer assigned (a token whose ``sub`` is their collar number, e.g. ``4021`` or
    ``pc-4021``), supervisors, auditors and admins; another officer is refused (403). Each
    opening is written to the access log (who, whose subject ids, which appointments) first.
    """
    if not plausible_id(officer_id):
        raise unknown("officer_id", "there is no officer with this id")
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.acquire() as conn:
        known, collar_number = await _collar_number(conn, officer_id)
        if not known:
            raise unknown("officer_id", "there is no officer with this id")
        if caller.role is Role.OFFICER and not is_the_officer(caller.subject, officer_id, collar_number):
            return problem(403, "an officer may open only their own day: this token is not this officer's")
        rows = await conn.fetch(
            "select * from diary where officer_id = $1 and local_day = $2 and status = any($3::text[])"
            " order by starts_at",
            officer_id, day, list(ATTENDED),
        )  # fmt: skip
        entries = [entry_of(r) for r in rows]
        bookings = await _bookings(conn, [e.appointment_id for e in entries])
        keys: dict[str, bytes | None] = {}
        subjects = {b.caller.subject_id for b in bookings.values()}
        if subjects:
            reader = _KEYS.get(id(runtime))
            if reader is None or reader.keys is None:
                raise ConnectionError("the key store is not open yet")
            keys = await reader.keys.keys_of(subjects)
        shown = [briefed(e, bookings.get(e.appointment_id), keys) for e in entries]
        if shown:
            await append_access(conn, accessed(caller, officer_id, day, shown), correlation_id.get())
    log.info("officer's day opened", officer_id=officer_id, day=day.isoformat(), appointments=len(shown))
    return OfficersDay(
        officer_id=officer_id, collar_number=collar_number, day=day, day_display=spoken_day(day),
        appointments=shown,
    )  # fmt: skip
