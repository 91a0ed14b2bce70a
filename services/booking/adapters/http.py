"""Booking's HTTP API: offer free slots, book a station slot or a diary-car window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from schemas.booking import PLACE_ID, Place, Slot
from services.booking.adapters.personal import InvalidPersonalData
from services.booking.adapters.refusals import status_of
from services.booking.app.forms import BookingForm
from services.booking.app.handlers import BookingHandlers, NotSeeded
from services.booking.domain.county_checks import CountyRefused
from services.booking.domain.errors import BookingRefused, SlotTaken
from services.booking.domain.state import Appointment, DiaryDay
from services.booking.domain.stranded import WouldStrand
from services.common.auth import Caller
from services.common.fields import Day
from services.common.http import Authorized, Problem, not_found, plausible_id, problem, unknown
from services.common.logging import correlation_id
from services.common.london import local, spoken_day, spoken_range
from services.common.reference import County
from services.common.unit_of_work import Metadata, TooMuchContention

router = APIRouter()


class FreeSlot(BaseModel):
    """A slot that can be booked now, with how to say it to the caller."""

    place: Place
    place_id: str = Field(description=PLACE_ID)
    starts_at: datetime
    ends_at: datetime
    room_id: str | None
    day: str
    when: str


class Booked(BaseModel):
    """The booking as confirmed to the call taker."""

    appointment_id: str
    place: Place
    place_id: str
    district_id: str
    room_id: str | None
    officer_id: str | None
    starts_at: datetime
    ends_at: datetime
    day: str
    when: str


def booked(day: DiaryDay, appointment: Appointment) -> Booked:
    """An appointment as booked on its day, as the call taker is told it."""
    return Booked(
        appointment_id=appointment.appointment_id,
        place=day.diary.place,
        place_id=day.place.id,
        district_id=day.district.id,
        room_id=appointment.room_id,
        officer_id=appointment.officer_id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        day=spoken_day(day.diary.day),
        when=spoken_range(appointment.starts_at, appointment.ends_at),
    )


def handlers_of(request: Request) -> BookingHandlers:
    handlers: BookingHandlers | None = getattr(request.app.state, "handlers", None)
    if handlers is None:
        raise HTTPException(503, "booking is starting: its database or Kafka is not up yet")
    return handlers


FREE_SLOTS = TypeAdapter(list[FreeSlot])


def _free(slot: Slot) -> FreeSlot:
    return FreeSlot(
        place=slot.place,
        place_id=slot.place_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        room_id=slot.room_id,
        day=spoken_day(local(slot.starts_at).date()),
        when=spoken_range(slot.starts_at, slot.ends_at),
    )


def meta_of(caller: Caller) -> Metadata:
    return Metadata(correlation_id=correlation_id.get() or "none", actor=caller.actor, now=datetime.now(UTC))


def refused(exc: BookingRefused | InvalidPersonalData) -> JSONResponse:
    """A refusal as HTTP: the status, the field and the reason, and alternatives on a lost race."""
    status = status_of(exc) if isinstance(exc, BookingRefused) else 422
    if status == 404:
        return not_found(exc.field, exc.reason)
    errors = [{"field": exc.field, "reason": exc.reason}]
    if isinstance(exc, SlotTaken):
        return problem(
            status,
            exc.reason,
            errors=errors,
            alternatives=[_free(s).model_dump(mode="json") for s in exc.alternatives],
        )
    return problem(status, exc.reason, errors=errors, code=getattr(exc, "code", "invalid"))


FromDay = Annotated[Day | None, Query(alias="from", description="First London date (default today).")]
ToDay = Annotated[Day | None, Query(alias="to", description="Last London date (default a week on).")]


class LostRace(Problem):
    """A refused booking: on a lost race (code slot-taken), the three nearest free slots come with it."""

    alternatives: list[FreeSlot] | None = None


def responses(**described: str) -> dict[int | str, dict[str, Any]]:
    """An operation's own error statuses (``_404="why"``), each answered with the Problem body."""
    return {int(status[1:]): {"model": Problem, "description": text} for status, text in described.items()}


UNKNOWN_PLACE = "No such station or district: the id names none of the county's."


def check_place(request: Request, place: Place, place_id: str) -> None:
    """404 for a station or district the county does not have (the same answer on every service)."""
    county = handlers_of(request).county
    try:
        if not plausible_id(place_id):
            raise LookupError(place_id)
        if place == "station":
            county.station(place_id)
        else:
            county.district(place_id)
    except LookupError:
        field, what = ("station_id", "station") if place == "station" else ("district_id", "district")
        raise unknown(field, f"there is no {what} with this id") from None


COUNTY_RESPONSES = responses(
    _409="Refused (code would-strand): the load would remove or close a station, room or district "
    "holding booked appointments; `stranded` lists each place, why and how many.",
    _422="Refused: the document is not whole; `errors` names every field and reason.",
)


# The document is read by the handler, not by FastAPI: its rules across fields (ids unique, stations in
# known districts) are refusals of a county that is not whole, like the checks after them.
COUNTY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/County"}}},
    }
}


async def county_document(request: Request) -> County:
    """The county sent, read whole; 422 naming every field that does not read."""
    try:
        return County.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "reason": e["msg"]} for e in exc.errors()
        ]
        detail = {"detail": "the county's reference data is not whole", "errors": errors, "code": "invalid"}
        raise HTTPException(422, detail) from None


@router.put(
    "/reference/county",
    tags=["reference"],
    status_code=200,
    responses=COUNTY_RESPONSES,
    openapi_extra=COUNTY_BODY,
)
async def load_county_reference(request: Request, caller: Authorized) -> dict[str, object]:
    """Load the county's reference data (`appointments seed` does this); a new version is recorded.

    Decided as a whole: a document that is not whole, or that would strand booked
    appointments, is refused and nothing changes.
    """
    county = await county_document(request)
    handlers = handlers_of(request)
    try:
        changed = await handlers.seed_reference(county, meta_of(caller))
    except CountyRefused as exc:
        errors = [{"field": p.field, "reason": p.reason} for p in exc.problems]
        detail = {"detail": exc.summary, "errors": errors, "code": "invalid"}
        raise HTTPException(status_of(exc), detail) from exc
    except WouldStrand as exc:
        errors = [{"field": s.field, "reason": s.reason} for s in exc.stranded]
        stranded = [
            {"place": s.place, "place_id": s.place_id, "room_id": s.room_id, "why": s.why,
             "appointments": s.appointments, "first_day": s.first_day.isoformat()}
            for s in exc.stranded
        ]  # fmt: skip
        detail = {"detail": exc.reason, "errors": errors, "code": "would-strand", "stranded": stranded}
        raise HTTPException(status_of(exc), detail) from exc
    return {"changed": changed, "sha256": handlers.reference.sha256}


@router.get(
    "/reference/county",
    tags=["reference"],
    response_model=County,
    responses=responses(_503="The county's reference data is not loaded yet (`appointments seed`)."),
)
async def county_reference(request: Request, _: Authorized) -> County:
    """The county's reference data in force: districts, stations, rooms, hours, diary cars."""
    try:
        return handlers_of(request).county
    except NotSeeded as exc:
        raise HTTPException(503, str(exc)) from exc


async def _offer(
    request: Request, place: Place, place_id: str, first: date | None, last: date | None
) -> object:
    now = datetime.now(UTC)
    first = first or now.date()
    last = last or first + timedelta(days=6)
    try:
        check_place(request, place, place_id)
        slots = await handlers_of(request).free_slots(place, place_id, first, last, now)
    except BookingRefused as exc:
        return refused(exc)
    except NotSeeded as exc:
        return problem(503, str(exc), retry_after_seconds=5)
    # Serialised once here: returning the models would have FastAPI validate them all again.
    return Response(FREE_SLOTS.dump_json([_free(s) for s in slots]), media_type="application/json")


OFFER_RESPONSES = responses(
    _404=UNKNOWN_PLACE,
    _422="Refused: the body names the field and the reason (a range that ends before it starts, or "
    "longer than the service offers at once).",
)


@router.get(
    "/stations/{station_id}/free-slots",
    response_model=list[FreeSlot],
    responses=OFFER_RESPONSES,
    tags=["booking"],
)
async def station_free_slots(
    request: Request, station_id: str, _: Authorized, first: FromDay = None, last: ToDay = None
) -> object:
    """The free hourly slots of a station's appointment room(s) over a date range."""
    return await _offer(request, "station", station_id, first, last)


@router.get(
    "/diary-cars/{district_id}/free-windows",
    response_model=list[FreeSlot],
    responses=OFFER_RESPONSES,
    tags=["booking"],
)
async def diary_car_free_windows(
    request: Request, district_id: str, _: Authorized, first: FromDay = None, last: ToDay = None
) -> object:
    """The free home-visit windows of a district's diary car over a date range."""
    return await _offer(request, "diary-car", district_id, first, last)


async def _book(request: Request, place: Place, place_id: str, form: BookingForm, caller: Caller) -> object:
    try:
        check_place(request, place, place_id)
        booking = await handlers_of(request).book(place, place_id, form, meta_of(caller))
    except (BookingRefused, InvalidPersonalData) as exc:
        return refused(exc)
    except (TooMuchContention, NotSeeded) as exc:
        return problem(503, str(exc), retry_after_seconds=1)
    body = booked(booking.day, booking.appointment)
    # A retried request answers as the first did; the header says it booked nothing new.
    headers = {"idempotent-replayed": "true"} if booking.again else None
    return Response(body.model_dump_json(), status_code=201, headers=headers, media_type="application/json")


BOOKING_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": Booked, "description": "Booked (or, with Idempotent-Replayed: true, booked before)."},
    **responses(
        _404=UNKNOWN_PLACE,
        _409="The slot was taken first: `alternatives` lists the three nearest free slots; or the "
        "request id was already used for a different booking (code request-reused).",
        _422="Refused: the body names the field and the reason (urgent or priority incidents go to "
        "emergency response; a time in the past, outside the hours, on a closed day).",
        _503="Booking is starting, or too many call takers raced for the same day: try again.",
    ),
}
BOOKING_RESPONSES[409]["model"] = LostRace


@router.post(
    "/stations/{station_id}/appointments", status_code=201, responses=BOOKING_RESPONSES, tags=["booking"]
)
async def book_station_slot(
    request: Request, station_id: str, form: BookingForm, caller: Authorized
) -> object:
    """Book an hourly slot in a station's confidential room."""
    return await _book(request, "station", station_id, form, caller)


@router.post(
    "/diary-cars/{district_id}/visits", status_code=201, responses=BOOKING_RESPONSES, tags=["booking"]
)
async def book_diary_car_visit(
    request: Request, district_id: str, form: BookingForm, caller: Authorized
) -> object:
    """Book a home visit by the district's diary car in one of its windows."""
    return await _book(request, "diary-car", district_id, form, caller)
