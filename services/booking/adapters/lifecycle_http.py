"""HTTP for an existing appointment: reschedule, cancel, attendance, no-show."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from schemas.base import DomainEvent
from schemas.booking import CancelReason, Initiator, MissedReason, Outcome, RescheduleReason
from services.booking.adapters.http import LostRace, handlers_of, meta_of, refused, responses
from services.booking.app.handlers import NotSeeded
from services.booking.app.lifecycle import Lifecycle
from services.booking.domain.errors import BookingRefused, Refusal
from services.common.commands import TooMuchContention
from services.common.fields import Day, LocalTime, Visible
from services.common.http import Authorized, plausible_id, problem, unknown

router = APIRouter(tags=["appointments"])
AppointmentId = Annotated[str, Path(description="The appointment's id (a UUID), as booking answered it.")]
Words = Annotated[str, Visible(200)]
Note = Annotated[
    str,
    Visible(500),
    Field(description="Staff's own words beside the reason code; kept sealed under the caller's key."),
]
C = TypeVar("C", RescheduleReason, MissedReason)
RESCHEDULE_CODES: TypeAdapter[RescheduleReason] = TypeAdapter(RescheduleReason)
MISSED_CODES: TypeAdapter[MissedReason] = TypeAdapter(MissedReason)
CODED = (
    "A reason code. Free words are still accepted for older clients: they are kept as the code "
    "`{fallback}` with the words as a sealed note."
)

RESPONSES: dict[int | str, dict[str, Any]] = responses(
    _404="No appointment with this id.",
    _409="The appointment's state forbids it (e.g. cancelled already, or not begun yet); on a "
    "reschedule, the slot was taken first and `alternatives` lists the nearest free ones.",
    _422="Refused: the body names the field and the reason.",
    _503="Too many changes raced for the same day, or booking is starting: try again.",
)
RESPONSES[409]["model"] = LostRace


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RescheduleBody(_Body):
    """A new slot (London date and start) and why it moves."""

    day: Day = Field(description="The Europe/London date of the new slot.")
    start: LocalTime = Field(description="Its local start time, e.g. 17:00.")
    initiated_by: Initiator
    reason: RescheduleReason | Words = Field(description=CODED.format(fallback="other"))
    note: Note | None = None


class CancelBody(_Body):
    """Who asked to cancel, and why."""

    initiated_by: Initiator
    reason: CancelReason
    note: Note | None = None


class AttendanceBody(_Body):
    """The meeting happened: its outcome, and which officer attended."""

    outcome: Outcome
    officer_id: Annotated[str, Visible(64)] | None = None


class NoShowBody(_Body):
    """The meeting did not happen: the public did not come, or no officer did."""

    missed_by: Initiator
    reason: MissedReason | Words = Field(description=CODED.format(fallback="other"))
    note: Note | None = None


class Changed(BaseModel):
    """What the command recorded (no events: it was already so)."""

    appointment_id: str
    events: list[str]


def coded(reason: str, note: str | None, codes: TypeAdapter[C]) -> tuple[C, str | None]:
    """A reason code and the note, from a body whose reason may be a code or (older clients)
    free words: words become the code ``other`` with the words as the note, never clear text."""
    try:
        return codes.validate_python(reason), note
    except ValidationError:
        if note is not None:
            raise Refusal("reason", "give a reason code when a note is given") from None
        return codes.validate_python("other"), reason


async def _run(appointment_id: str, work: Awaitable[list[DomainEvent]]) -> object:
    try:
        events = await work
    except BookingRefused as exc:
        return refused(exc)
    except (TooMuchContention, NotSeeded) as exc:
        return problem(503, str(exc), retry_after_seconds=1)
    return Changed(appointment_id=appointment_id, events=[e.event_type for e in events])


def _lifecycle(request: Request, appointment_id: str) -> Lifecycle:
    if not plausible_id(appointment_id):
        raise unknown("appointment_id", "there is no appointment with this id")
    return Lifecycle(handlers_of(request))


@router.post("/appointments/{appointment_id}/reschedule", response_model=Changed, responses=RESPONSES)
async def reschedule(
    request: Request, appointment_id: AppointmentId, body: RescheduleBody, caller: Authorized
) -> object:
    """Move an appointment to another slot, on its day or another; 409 with alternatives if taken."""
    lifecycle = _lifecycle(request, appointment_id)
    try:
        reason, note = coded(body.reason, body.note, RESCHEDULE_CODES)
    except Refusal as exc:
        return refused(exc)
    work = lifecycle.reschedule(
        appointment_id, body.day, body.start, body.initiated_by, reason, meta_of(caller), note
    )
    return await _run(appointment_id, work)


@router.post("/appointments/{appointment_id}/cancel", response_model=Changed, responses=RESPONSES)
async def cancel(
    request: Request, appointment_id: AppointmentId, body: CancelBody, caller: Authorized
) -> object:
    """Cancel an appointment, by the police or the public, with the reason."""
    work = _lifecycle(request, appointment_id).cancel(
        appointment_id, body.initiated_by, body.reason, meta_of(caller), body.note
    )
    return await _run(appointment_id, work)


@router.post("/appointments/{appointment_id}/attendance", response_model=Changed, responses=RESPONSES)
async def attended(
    request: Request, appointment_id: AppointmentId, body: AttendanceBody, caller: Authorized
) -> object:
    """Record that the meeting took place and its outcome."""
    work = _lifecycle(request, appointment_id).attended(
        appointment_id, body.outcome, body.officer_id, meta_of(caller)
    )
    return await _run(appointment_id, work)


@router.post("/appointments/{appointment_id}/no-show", response_model=Changed, responses=RESPONSES)
async def no_show(
    request: Request, appointment_id: AppointmentId, body: NoShowBody, caller: Authorized
) -> object:
    """Record a no-show by the public, or an officer no-show by the police."""
    lifecycle = _lifecycle(request, appointment_id)
    try:
        reason, note = coded(body.reason, body.note, MISSED_CODES)
    except Refusal as exc:
        return refused(exc)
    work = lifecycle.missed(appointment_id, body.missed_by, reason, meta_of(caller), note)
    return await _run(appointment_id, work)
