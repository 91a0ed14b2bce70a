"""The web pages: server-rendered HTML over the projections and booking services' HTTP APIs.

The pages hold no state of their own. Every diary, free slot and history comes from
the services over HTTP, with a supervisor token this process issues itself; when a
service is down or refuses, the page says so in plain words instead of failing.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

import httpx
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.auth import Role, issue_token
from services.common.config import settings
from services.common.http import create_http_app
from services.common.logging import correlation_id, get_logger
from services.common.london import LONDON, local, spoken_day, spoken_range, spoken_time
from services.common.reference import (
    WEEKDAYS,
    County,
    Station,
    Weekday,
    bank_holiday,
    load_county,
    weekday_of,
)

log = get_logger(__name__)

SERVICE = "web"
HERE = Path(__file__).parent
TOKEN_SUBJECT = "web-pages"
BACKENDS = ("projections", "booking")
# The pages wait this long for a service; a slower answer is shown as "not answering".
BACKEND_TIMEOUT = httpx.Timeout(5.0)
HEALTH_TIMEOUT = 3.0
# Keeps a free-slots page readable; a longer range is refused with a message.
MAX_FREE_SLOT_DAYS = 28
# Paths that answer machines, not people: their errors stay JSON.
MACHINE_PATHS = ("/health", "/metrics", "/openapi.json", "/docs", "/redoc", "/static/")

SERVICE_WORDS = {
    "projections": "the diaries and history service (projections)",
    "booking": "the booking service",
}
STATUS_WORDS = {
    "booked": "Booked",
    "rescheduled": "Rescheduled",
    "awaiting-reschedule": "Needs a new time",
    "cancelled": "Cancelled",
    "attended": "Attended",
    "missed-by-public": "Missed: the caller did not come",
    "missed-by-police": "Missed: no officer came",
}
EVENT_WORDS = {
    "AppointmentRequested": "Appointment requested",
    "SlotBooked": "Station appointment booked",
    "DiaryCarVisitBooked": "Home visit by the diary car booked",
    "AppointmentRescheduled": "Moved to a new time",
    "AppointmentMovedOut": "Moved out of its day",
    "AppointmentReassigned": "Given to another officer",
    "AppointmentDisplaced": "Officer withdrawn: needs a new time",
    "AppointmentCancelled": "Cancelled",
    "AppointmentAttended": "Attended",
    "AppointmentMissed": "Missed",
    "RequestRefused": "Request refused",
    "WaitlistJoined": "Put on the waiting list",
    "AppointmentOffered": "A freed slot offered",
    "OfferLapsed": "Offer lapsed",
    "WaitlistLeft": "Left the waiting list",
    "SmsQueued": "Text message queued",
    "SmsDelivered": "Text message delivered",
    "SmsFailed": "Text message not delivered",
    "ReplyReceived": "Text reply received",
    "SatisfactionRecorded": "Satisfaction score recorded",
}
ROLE_WORDS = {
    Role.CALL_TAKER.value: "Call taker",
    Role.OFFICER.value: "Officer",
    Role.SUPERVISOR.value: "Supervisor",
    Role.AUDITOR.value: "Auditor",
    Role.GATEWAY.value: "SMS gateway",
    Role.ADMIN.value: "Administrator",
}
INITIATOR_WORDS = {"police": "By the police", "public": "At the caller's request"}
MISSED_WORDS = {"public": "The caller did not come", "police": "No officer came"}

templates = Jinja2Templates(directory=HERE / "templates")

Place = Literal["station", "diary-car"]
T = TypeVar("T")


# ---------------------------------------------------------------------------- the services


class BackendError(Exception):
    """A service did not answer (status None) or answered with an error status."""

    def __init__(self, service: str, status: int | None, detail: str) -> None:
        super().__init__(f"{service}: {status or 'no answer'}: {detail}")
        self.service = service
        self.status = status
        self.detail = detail


def _reason(response: httpx.Response) -> str:
    """The sentence an error body gives (services answer {detail, errors: [{field, reason}]})."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no reason given"
    if not isinstance(body, dict):
        return response.reason_phrase or "no reason given"
    parts: list[str] = []
    if isinstance(body.get("detail"), str):
        parts.append(body["detail"])
    for error in body.get("errors") or ():
        if isinstance(error, dict) and isinstance(error.get("reason"), str):
            where = error.get("field")
            named = isinstance(where, str) and where
            parts.append(f"{where}: {error['reason']}" if named else error["reason"])
    # The services' bodies are short; the cap only guards the page against a runaway answer.
    return ("; ".join(dict.fromkeys(parts)) or response.reason_phrase or "no reason given")[:300]


@dataclass
class Backends:
    """The projections and booking services as this process calls them."""

    client: httpx.AsyncClient
    urls: Mapping[str, str]
    token: str

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        # Passing the correlation id on lets one page view be followed through every service's logs.
        cid = correlation_id.get()
        if cid:
            headers["x-correlation-id"] = cid
        return headers

    async def get(self, service: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        """The JSON a service answers to GET ``path``; BackendError when it cannot or will not."""
        try:
            response = await self.client.get(
                self.urls[service] + path, params=dict(params or {}), headers=self._headers()
            )
        except httpx.TimeoutException as exc:
            raise BackendError(service, None, "did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise BackendError(service, None, "is not answering") from exc
        if response.status_code >= 400:
            raise BackendError(service, response.status_code, _reason(response))
        try:
            return response.json()
        except ValueError as exc:
            raise BackendError(service, 502, "answered with something other than JSON") from exc

    async def probe(self, service: str) -> None:
        """Raise unless the service's /health answers 200."""
        response = await self.client.get(self.urls[service] + "/health", timeout=HEALTH_TIMEOUT)
        if response.status_code != 200:
            raise RuntimeError(f"{self.urls[service]}/health answered {response.status_code}")


def service_url(service: str) -> str:
    """A service's base URL: APPOINTMENTS_<SERVICE>_URL, else this host on its contract port."""
    explicit = os.environ.get(f"APPOINTMENTS_{service.upper()}_URL")
    return (explicit or f"http://127.0.0.1:{settings().port(service)}").rstrip("/")


class _Answer(BaseModel):
    # Services may add fields (the contract grows by adding); the pages read only what they show.
    model_config = ConfigDict(extra="ignore")


class DiaryLineAnswer(_Answer):
    """One appointment of a projections diary answer."""

    appointment_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: str | None = None
    officer_id: str | None = None
    status: str
    case_reference: str | None = None
    thrive_risk: str | None = None


class DiaryAnswer(_Answer):
    """A projections diary answer."""

    appointments: list[DiaryLineAnswer]


class FreeSlotAnswer(_Answer):
    """One free slot of a booking answer."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: str | None = None


class HistoryAnswer(_Answer):
    """One event of a projections history answer."""

    event_id: str
    event_type: str
    actor: str | None = None
    occurred_at: AwareDatetime
    source: str = ""
    data: dict[str, Any] = {}


def _parse(kind: type[T], payload: Any, service: str) -> T:
    try:
        return TypeAdapter(kind).validate_python(payload)
    except ValidationError as exc:
        raise BackendError(service, 502, "answered in a shape these pages do not understand") from exc


# ---------------------------------------------------------------------------- words and times


class LocalTimeError(ValueError):
    """A London wall-clock time that a clock change skips or repeats."""


def clock(t: time) -> str:
    """A wall-clock time as '5pm', '5:30pm', 'midday' (no time zone arithmetic)."""
    # A January date has no clock change, so spoken_time shows the wall clock unchanged.
    return spoken_time(datetime.combine(date(2026, 1, 5), t, tzinfo=LONDON))


def _clock_change(day: date, wall: time) -> Literal["skipped", "repeated"] | None:
    """Whether a London wall-clock time is skipped or repeated by a clock change, or neither."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=LONDON, fold=0)
    if first.utcoffset() == naive.replace(tzinfo=LONDON, fold=1).utcoffset():
        return None
    # zoneinfo gives two offsets for a skipped time too; only a repeated one survives the round trip.
    round_trip = first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
    return "skipped" if round_trip != naive else "repeated"


def london_instant(day: date, wall: time) -> datetime:
    """The UTC instant of a Europe/London wall-clock time; LocalTimeError when it is skipped or repeated."""
    change = _clock_change(day, wall)
    if change is None:
        return datetime.combine(day, wall, tzinfo=LONDON).astimezone(UTC)
    # Walk out to the edges of the odd hour so the message can name it (two hours of minutes at most).
    minute = timedelta(minutes=1)
    start = end = datetime.combine(day, wall)
    while start.time() != time(0) and _clock_change(day, (start - minute).time()) == change:
        start -= minute
    while end.time() != time(23, 59) and _clock_change(day, (end + minute).time()) == change:
        end += minute
    span = f"from {clock(start.time())} up to {clock((end + minute).time())}"
    when = f"{clock(wall)} on {spoken_day(day)}"
    if change == "skipped":
        raise LocalTimeError(
            f"{when} did not happen in London: the clocks went forward that night, "
            f"so there was no time {span}. Choose a time outside that hour."
        )
    raise LocalTimeError(
        f"{when} happened twice in London: the clocks went back that night, so every time {span} "
        "came round twice. Choose a time outside that hour."
    )


def spoken_moment(instant: datetime) -> str:
    """'5:30pm on Tuesday 14 June 2026', London time."""
    return f"{spoken_time(instant)} on {spoken_day(local(instant).date())}"


def spoken_days(days: tuple[Weekday, ...]) -> str:
    """'every day', 'Sunday to Thursday', or 'Monday, Wednesday and Friday'."""
    wanted = set(days)
    if len(wanted) == len(WEEKDAYS):
        return "every day"
    for start in range(len(WEEKDAYS)):
        run = [WEEKDAYS[(start + i) % len(WEEKDAYS)] for i in range(len(wanted))]
        if len(run) >= 3 and set(run) == wanted:
            return f"{run[0].title()} to {run[-1].title()}"
    return spoken_list([d.title() for d in WEEKDAYS if d in wanted])


def spoken_list(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(text: str) -> str:
    """The text with its first letter a capital, the rest untouched (unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def _plain(code: str) -> str:
    """'no-longer-needed' or 'SomethingHappened' as 'No longer needed' / 'Something happened'."""
    return _sentence(re.sub(r"(?<!^)(?=[A-Z])", " ", code).replace("-", " ").replace("_", " ").lower())


def _day_param(text: str | None, default: date) -> date:
    if not text:
        return default
    return date.fromisoformat(text.strip())


def _time_param(text: str) -> time:
    parsed = time.fromisoformat(text.strip().zfill(5))
    return parsed.replace(second=0, microsecond=0)


def _room_names(county: County) -> dict[str, str]:
    return {room.id: room.name for s in county.stations for room in s.rooms}


# ---------------------------------------------------------------------------- page helpers


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``template`` with ``context``."""
    return templates.TemplateResponse(request, template, context, status_code=status)


def error_page(
    request: Request,
    status: int,
    title: str,
    *paragraphs: str,
    back: str | None = None,
    reference: str | None = None,
) -> HTMLResponse:
    """A page that says what went wrong and what to do, with a reference for the service desk."""
    return render(
        request,
        "error.html",
        status=status,
        title=title,
        paragraphs=paragraphs,
        back=back,
        reference=reference or correlation_id.get(),
    )


def backend_error_page(request: Request, exc: BackendError, what: str) -> HTMLResponse:
    """A page for a service that is down or refused: never a stack trace."""
    name = SERVICE_WORDS.get(exc.service, exc.service)
    log.warning("service call failed", backend=exc.service, status=exc.status, detail=exc.detail)
    if exc.status is None:
        return error_page(
            request,
            503,
            f"Sorry, {what} is not available just now",
            f"{_sentence(name)} {exc.detail}.",
            "Try again in a few minutes. If it keeps happening, tell the service desk and give them "
            "the reference below.",
            back="/",
        )
    if exc.status == 404:
        return error_page(request, 404, "Not found", f"{_sentence(name)} says: {exc.detail}.")
    if exc.status in (401, 403):
        return error_page(
            request,
            502,
            f"The pages could not sign in to {name}",
            f"It answered {exc.status}: {exc.detail}.",
            "The web pages and the services must share the same token secret; tell the service desk.",
        )
    if exc.status < 500:
        return error_page(
            request, exc.status, f"{_sentence(name)} could not answer this", f"{exc.detail}."
        )
    return error_page(
        request,
        503 if exc.status == 503 else 502,
        f"Sorry, there is a problem with {name}",
        f"It answered {exc.status}: {exc.detail}.",
        "Try again in a few minutes. If it keeps happening, tell the service desk and give them "
        "the reference below.",
    )


@dataclass(frozen=True)
class AsAt:
    """The 'as it stood at' request: the instant, or the error to show, and the form's values."""

    instant: datetime | None
    error: str | None
    field: str | None
    date_text: str
    time_text: str


def resolve_as_at(at: str | None, at_date: str | None, at_time: str | None) -> AsAt:
    """Read the form (a London date and time) or an ``at`` instant into a UTC instant."""
    date_text, time_text = (at_date or "").strip(), (at_time or "").strip()
    if date_text or time_text:
        if not date_text:
            return AsAt(None, "Enter the date as well as the time.", "at_date", date_text, time_text)
        if not time_text:
            return AsAt(None, "Enter the time as well as the date.", "at_time", date_text, time_text)
        try:
            day = date.fromisoformat(date_text)
        except ValueError:
            why = "Enter the date as year-month-day, for example 2026-12-02."
            return AsAt(None, why, "at_date", date_text, time_text)
        try:
            wall = _time_param(time_text)
        except ValueError:
            why = "Enter the time on the 24-hour clock, for example 17:30."
            return AsAt(None, why, "at_time", date_text, time_text)
        try:
            instant = london_instant(day, wall)
        except LocalTimeError as exc:
            return AsAt(None, str(exc), "at_time", date_text, time_text)
        return AsAt(instant, None, None, date_text, time_text)
    if at:
        try:
            given: datetime | None = datetime.fromisoformat(at.strip())
        except ValueError:
            given = None
        if given is None or given.tzinfo is None:
            why = "The 'at' instant must be ISO 8601 with an offset, such as 2026-12-02T17:30:00+00:00."
            return AsAt(None, why, "at_date", "", "")
        wall_clock = local(given)
        return AsAt(given.astimezone(UTC), None, None, wall_clock.date().isoformat(), f"{wall_clock:%H:%M}")
    return AsAt(None, None, None, "", "")


def _history_details(event_type: str, data: Mapping[str, Any], county: County) -> list[str]:
    """What an event says, in words, from its non-personal fields only (personal data stays sealed)."""

    def text(key: str, source: Mapping[str, Any] = data) -> str | None:
        value = source.get(key)
        return value if isinstance(value, str) and value else None

    def instant(key: str) -> datetime | None:
        value = text(key)
        try:
            parsed = datetime.fromisoformat(value) if value else None
        except ValueError:
            return None
        return parsed if parsed is not None and parsed.tzinfo is not None else None

    def span(starts: datetime | None, ends: datetime | None) -> str | None:
        if starts and ends:
            return f"{spoken_day(local(starts).date())}, {spoken_range(starts, ends)}"
        return f"The appointment at {spoken_moment(starts)}" if starts else None

    lines: list[str] = []
    starts = instant("starts_at") or instant("window_starts_at")
    ends = instant("ends_at") or instant("window_ends_at")
    if event_type == "AppointmentRescheduled":
        was = span(instant("from_starts_at"), instant("from_ends_at"))
        if was:
            lines.append(f"Was {was}")
        now = span(starts, ends)
        if now:
            lines.append(f"Now {now}")
    else:
        when = span(starts, ends)
        if when:
            lines.append(when)
    station_id, car_id = text("station_id"), text("diary_car_id")
    if station_id:
        try:
            lines.append(f"{county.station(station_id).name} police station")
        except LookupError:
            lines.append(f"Station {station_id}")
    if car_id:
        lines.append(car_id.replace("-diary-car", "").replace("-", " ").title() + " diary car (home visit)")
    room_id = text("room_id")
    if room_id:
        lines.append(_room_names(county).get(room_id, room_id))
    if event_type == "AppointmentReassigned":
        lines.append(f"From officer {text('from_officer_id') or 'none'} to officer {text('to_officer_id')}")
    elif text("officer_id"):
        lines.append(f"Officer {text('officer_id')}")
    briefing = data.get("briefing")
    if isinstance(briefing, Mapping):
        if text("case_reference", briefing):
            lines.append(f"Case reference {text('case_reference', briefing)}")
        if text("thrive_risk", briefing):
            lines.append(f"THRIVE risk: {_plain(text('thrive_risk', briefing) or '')}")
    if event_type in ("AppointmentCancelled", "AppointmentRescheduled") and text("initiated_by"):
        lines.append(INITIATOR_WORDS.get(text("initiated_by") or "", ""))
    if event_type == "AppointmentCancelled" and text("reason"):
        lines.append(f"Reason: {_plain(text('reason') or '').lower()}")
    if event_type == "AppointmentMissed" and text("missed_by"):
        lines.append(MISSED_WORDS.get(text("missed_by") or "", ""))
    if event_type == "AppointmentAttended" and text("outcome"):
        lines.append(f"Outcome: {_plain(text('outcome') or '').lower()}")
    # Refusal reasons and gateway failures are written by the systems, never typed by a person.
    if event_type in ("RequestRefused", "SmsFailed") and text("reason"):
        lines.append(text("reason") or "")
    if event_type == "SmsQueued" and text("template"):
        lines.append(f"Message: {_plain(text('template') or '').lower()}")
    if event_type == "ReplyReceived" and text("intent"):
        lines.append(f"Read as: {text('intent')}")
    score = data.get("score")
    if event_type == "SatisfactionRecorded" and isinstance(score, int):
        lines.append(f"{score} out of 5")
    return [line for line in lines if line]


def _who(actor: str | None, source: str) -> str:
    """Who did it, in words: 'Call taker CT1234', or the service when no person did."""
    if not actor:
        service = source.rstrip("/").rsplit("/", 1)[-1]
        return f"The {service} service" if service else "The system"
    role, _, subject = actor.partition(":")
    words = ROLE_WORDS.get(role)
    return f"{words} {subject}".strip() if words else actor


# ---------------------------------------------------------------------------- the pages


@dataclass(frozen=True)
class PlaceView:
    """A station or a diary car as the pages link to it and the services name it."""

    kind: Place
    name: str
    station: Station | None
    diary_path: str
    free_path: str
    diary_api: str
    free_api: str


def find_place(county: County, kind: Place, place_id: str) -> PlaceView | None:
    """The appointment station or the district's diary car with this id, or None."""
    quoted = quote(place_id, safe="")
    if kind == "station":
        try:
            station = county.station(place_id)
        except LookupError:
            return None
        if not station.offers_appointments:
            return None
        return PlaceView(
            kind,
            f"{station.name} police station",
            station,
            f"/stations/{quoted}/diary",
            f"/stations/{quoted}/free-slots",
            f"/diaries/stations/{quoted}",
            f"/stations/{quoted}/free-slots",
        )
    try:
        car = county.diary_car(place_id)
    except LookupError:
        return None
    return PlaceView(
        kind,
        car.name,
        None,
        f"/diary-cars/{quoted}/diary",
        f"/diary-cars/{quoted}/free-windows",
        f"/diaries/diary-cars/{quoted}",
        f"/diary-cars/{quoted}/free-windows",
    )


def _no_place(request: Request, kind: Place, place_id: str) -> HTMLResponse:
    if kind == "station":
        title, what = "No such appointment station", "station with an appointment room"
    else:
        title, what = "No such district", "district"
    return error_page(request, 404, title, f"There is no {what} called “{place_id}”.", back="/")


def station_notes(station: Station, day: date) -> list[str]:
    """What a diary page should say about the station's hours on ``day``."""
    notes: list[str] = []
    if station.appointments_from and day < station.appointments_from:
        notes.append(f"Station appointments began on {spoken_day(station.appointments_from)}.")
    hours = station.hours_on(day)
    if hours is None:
        notes.append(f"{station.name} does not take appointments on {weekday_of(day).title()}s.")
    else:
        rooms = ", ".join(r.name.lower() for r in station.rooms)
        notes.append(f"Hourly slots from {clock(hours.first_slot)} to {clock(hours.closes)}, in {rooms}.")
    holiday = bank_holiday(day)
    if holiday:
        opens = "is open" if station.open_on_bank_holidays else "is closed"
        notes.append(f"This is a bank holiday ({holiday}): {station.name} {opens} for appointments.")
    return notes


def _css_word(code: str) -> str:
    return re.sub(r"[^a-z]+", "-", code.lower()).strip("-")


class Pages:
    """The page handlers, with the county, the services and the clock they read."""

    def __init__(self, county: County, backends: Backends, now: Callable[[], datetime]) -> None:
        self.county = county
        self.backends = backends
        self.now = now
        self.rooms = _room_names(county)

    def today(self) -> date:
        """Today's date in London."""
        return local(self.now()).date()

    async def county_page(self, request: Request) -> HTMLResponse:
        """The districts, their appointment stations and diary cars, linking to today's diaries."""
        day = self.today().isoformat()
        districts = []
        for district in self.county.districts:
            stations = self.county.stations_in(district.id)
            car, windows = district.diary_car, district.diary_car.windows
            districts.append(
                {
                    "name": district.name,
                    "stations": [
                        {
                            "name": s.name,
                            "days": _sentence(spoken_days(s.appointment_days)),
                            "diary_url": f"/stations/{s.id}/diary?day={day}",
                            "free_slots_url": f"/stations/{s.id}/free-slots",
                        }
                        for s in stations
                        if s.offers_appointments
                    ],
                    "other_stations": spoken_list([s.name for s in stations if not s.offers_appointments]),
                    "car": {
                        "name": car.name,
                        "days": _sentence(spoken_days(car.days)),
                        "hours": f"{clock(windows[0].start)} to {clock(windows[-1].end)}" if windows else "",
                        "windows": len(windows),
                        "diary_url": f"/diary-cars/{district.id}/diary?day={day}",
                        "free_windows_url": f"/diary-cars/{district.id}/free-windows",
                    },
                }
            )
        first = next(iter(self.county.appointment_stations()), None)
        hours = [
            f"{clock(h.first_slot)} to {clock(h.closes)} {spoken_days(h.days)}"
            for h in (first.opening_hours if first else ())
        ]
        return render(
            request,
            "county.html",
            title=f"{self.county.name}: station appointments",
            county=self.county.name,
            today=spoken_day(self.today()),
            districts=districts,
            hours=hours,
        )

    async def diary_page(
        self,
        request: Request,
        kind: Place,
        place_id: str,
        day_text: str | None,
        as_at: AsAt,
    ) -> HTMLResponse:
        """A day's diary, live or as it stood at ``as_at``."""
        place = find_place(self.county, kind, place_id)
        if place is None:
            return _no_place(request, kind, place_id)
        try:
            day = _day_param(day_text, self.today())
        except ValueError:
            return error_page(
                request, 422, "That is not a date",
                "Give the day as year-month-day, for example 2026-12-02.", back=place.diary_path,
            )

        def link(d: date, keep_at: bool = True) -> str:
            query = {"day": d.isoformat()}
            if keep_at and as_at.instant is not None:
                query["at"] = as_at.instant.isoformat()
            return f"{place.diary_path}?{urlencode(query)}"

        context: dict[str, Any] = {
            "title": f"{place.name}: {spoken_day(day)}",
            "place_name": place.name,
            "place": kind,
            "day": day.isoformat(),
            "day_text": spoken_day(day),
            "path": place.diary_path,
            "previous_url": link(day - timedelta(days=1)),
            "next_url": link(day + timedelta(days=1)),
            "today_url": link(self.today()),
            "live_url": link(day, keep_at=False),
            "free_url": place.free_path,
            "notes": station_notes(place.station, day) if place.station else [],
            "as_at": as_at,
            "as_at_text": spoken_moment(as_at.instant) if as_at.instant else None,
            "rows": None,
        }
        if as_at.error:
            return render(request, "diary.html", status=422, **context)
        params = {"at": as_at.instant.isoformat()} if as_at.instant else {}
        try:
            answer = _parse(
                DiaryAnswer,
                await self.backends.get("projections", f"{place.diary_api}/{day.isoformat()}", params),
                "projections",
            )
        except BackendError as exc:
            return backend_error_page(request, exc, "the diary")
        context["rows"] = [
            {
                "when": spoken_range(a.starts_at, a.ends_at),
                "starts_iso": a.starts_at.isoformat(),
                "status": STATUS_WORDS.get(a.status, _plain(a.status)),
                "status_class": _css_word(a.status),
                "room": self.rooms.get(a.room_id, a.room_id) if a.room_id else None,
                "officer": a.officer_id,
                "case_reference": a.case_reference,
                "risk": _plain(a.thrive_risk) if a.thrive_risk else None,
                "risk_class": _css_word(a.thrive_risk or "none"),
                "history_url": f"/appointments/{quote(a.appointment_id, safe='')}",
            }
            for a in sorted(answer.appointments, key=lambda a: a.starts_at)
        ]
        return render(request, "diary.html", **context)

    async def free_page(
        self, request: Request, kind: Place, place_id: str, first_text: str | None, last_text: str | None
    ) -> HTMLResponse:
        """The free slots (or diary-car windows) booking offers over a range of days, grouped by day."""
        place = find_place(self.county, kind, place_id)
        if place is None:
            return _no_place(request, kind, place_id)
        noun = "slots" if kind == "station" else "home-visit windows"
        context: dict[str, Any] = {
            "title": f"Free {noun}: {place.name}",
            "place_name": place.name,
            "noun": noun,
            "path": place.free_path,
            "from_text": first_text or "",
            "to_text": last_text or "",
            "range_text": None,
            "error": None,
            "error_field": None,
            "days": None,
        }

        def refuse(field: str, why: str) -> HTMLResponse:
            context.update(error=why, error_field=field)
            return render(request, "free_slots.html", status=422, **context)

        try:
            first = _day_param(first_text, self.today())
        except ValueError:
            return refuse("from", "Enter the first day as year-month-day, for example 2026-12-02.")
        try:
            last = _day_param(last_text, first + timedelta(days=6))
        except ValueError:
            return refuse("to", "Enter the last day as year-month-day, for example 2026-12-08.")
        context.update(
            from_text=first.isoformat(),
            to_text=last.isoformat(),
            range_text=f"{spoken_day(first)} to {spoken_day(last)}",
        )
        if last < first:
            return refuse("to", "The last day must be the same as or after the first day.")
        if (last - first).days >= MAX_FREE_SLOT_DAYS:
            return refuse("to", f"Choose at most {MAX_FREE_SLOT_DAYS} days at a time.")
        try:
            slots = _parse(
                list[FreeSlotAnswer],
                await self.backends.get("booking", place.free_api, {"from": f"{first}", "to": f"{last}"}),
                "booking",
            )
        except BackendError as exc:
            if exc.status in (400, 409, 422):
                # Booking refuses a range it will not offer (not live yet, in the past): say why on the form.
                return refuse("from", f"{exc.detail}.")
            return backend_error_page(request, exc, "the free slots")
        by_day: dict[date, list[dict[str, Any]]] = {}
        for slot in sorted(slots, key=lambda s: s.starts_at):
            by_day.setdefault(local(slot.starts_at).date(), []).append(
                {
                    "when": spoken_range(slot.starts_at, slot.ends_at),
                    "starts_iso": slot.starts_at.isoformat(),
                    "room": self.rooms.get(slot.room_id, slot.room_id) if slot.room_id else None,
                }
            )
        context["days"] = [
            {"day_text": spoken_day(d), "diary_url": f"{place.diary_path}?day={d.isoformat()}", "slots": s}
            for d, s in by_day.items()
        ]
        return render(request, "free_slots.html", **context)

    async def history_page(self, request: Request, appointment_id: str) -> HTMLResponse:
        """An appointment's history as a timeline: when, what, and who."""
        path = f"/appointments/{quote(appointment_id, safe='')}/history"
        try:
            events = _parse(list[HistoryAnswer], await self.backends.get("projections", path), "projections")
        except BackendError as exc:
            if exc.status == 404:
                return error_page(
                    request, 404, "No such appointment",
                    f"There is no appointment with the reference “{appointment_id}”.", back="/",
                )
            return backend_error_page(request, exc, "the appointment's history")
        case_reference: str | None = None
        diary_url: str | None = None
        items = []
        for e in sorted(events, key=lambda e: e.occurred_at):
            briefing = e.data.get("briefing")
            if case_reference is None and isinstance(briefing, dict):
                found = briefing.get("case_reference")
                case_reference = found if isinstance(found, str) else None
            diary_url = self._diary_link(e.data) or diary_url
            try:
                details = _history_details(e.event_type, e.data, self.county)
            except Exception:
                # An unexpected event shape must not hide the rest of the history.
                log.exception("could not describe an event", event_id=e.event_id)
                details = []
            items.append(
                {
                    "when": spoken_moment(e.occurred_at),
                    "when_iso": e.occurred_at.isoformat(),
                    "what": EVENT_WORDS.get(e.event_type, _plain(e.event_type)),
                    "who": _who(e.actor, e.source),
                    "details": details,
                }
            )
        return render(
            request,
            "history.html",
            title=f"Appointment {appointment_id}",
            appointment_id=appointment_id,
            case_reference=case_reference,
            diary_url=diary_url,
            items=items,
        )

    def _diary_link(self, data: Mapping[str, Any]) -> str | None:
        """The diary page an event puts the appointment in, when it says where and when."""
        starts = data.get("starts_at") or data.get("window_starts_at")
        try:
            day = local(datetime.fromisoformat(starts)).date() if isinstance(starts, str) else None
        except ValueError:
            return None
        station_id, district_id = data.get("station_id"), data.get("district_id")
        if day is None:
            return None
        if isinstance(station_id, str) and find_place(self.county, "station", station_id):
            return f"/stations/{quote(station_id, safe='')}/diary?day={day.isoformat()}"
        if isinstance(data.get("diary_car_id"), str) and isinstance(district_id, str):
            return f"/diary-cars/{quote(district_id, safe='')}/diary?day={day.isoformat()}"
        return None


# ---------------------------------------------------------------------------- the app


def create_app(
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    urls: Mapping[str, str] | None = None,
    county: County | None = None,
    now: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The web pages' ASGI app; tests pass a fake ``transport`` instead of the real services."""
    backends = Backends(
        client=httpx.AsyncClient(transport=transport, timeout=BACKEND_TIMEOUT),
        urls={name: service_url(name) for name in BACKENDS} | dict(urls or {}),
        token=issue_token(Role.SUPERVISOR, TOKEN_SUBJECT, settings().token_secret),
    )
    pages = Pages(county or load_county(), backends, now or (lambda: datetime.now(UTC)))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await backends.client.aclose()

    def probe(service: str) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            await backends.probe(service)

        return check

    app = create_http_app(SERVICE, {name: probe(name) for name in BACKENDS}, lifespan=lifespan)
    app.state.pages = pages
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            why = "Check the address, or start again from the county page."
            return error_page(request, 404, "Page not found", why, back="/")
        return error_page(request, exc.status_code, "This cannot be done", str(exc.detail), back="/")

    # Unknown addresses get a page; the services' own JSON errors (fastapi's HTTPException) are kept.
    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.middleware("http")
    async def friendly_failures(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # The shared middleware answers an unexpected error with JSON; people get a page instead.
        response = await call_next(request)
        if response.status_code == 500 and not request.url.path.startswith(MACHINE_PATHS):
            reference = response.headers.get("x-correlation-id")
            page = error_page(
                request,
                500,
                "Sorry, there is a problem with the pages",
                "Try again in a few minutes. If it keeps happening, tell the service desk and give them "
                "the reference below.",
                back="/",
                reference=reference,
            )
            if reference:
                page.headers["x-correlation-id"] = reference
            return page
        return response

    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    async def county_page(request: Request) -> HTMLResponse:
        """The county: districts, their appointment stations and diary cars."""
        return await pages.county_page(request)

    @app.get("/stations/{station_id}/diary", response_class=HTMLResponse, tags=["pages"])
    async def station_diary(
        request: Request,
        station_id: str,
        day: str | None = None,
        at: str | None = None,
        at_date: str | None = None,
        at_time: str | None = None,
    ) -> HTMLResponse:
        """A station's diary for a day, or as it stood at a London date and time."""
        as_at = resolve_as_at(at, at_date, at_time)
        return await pages.diary_page(request, "station", station_id, day, as_at)

    @app.get("/diary-cars/{district_id}/diary", response_class=HTMLResponse, tags=["pages"])
    async def diary_car_diary(
        request: Request,
        district_id: str,
        day: str | None = None,
        at: str | None = None,
        at_date: str | None = None,
        at_time: str | None = None,
    ) -> HTMLResponse:
        """A district diary car's day, or as it stood at a London date and time."""
        as_at = resolve_as_at(at, at_date, at_time)
        return await pages.diary_page(request, "diary-car", district_id, day, as_at)

    @app.get("/stations/{station_id}/free-slots", response_class=HTMLResponse, tags=["pages"])
    async def station_free_slots(
        request: Request,
        station_id: str,
        first: str | None = Query(None, alias="from"),
        last: str | None = Query(None, alias="to"),
    ) -> HTMLResponse:
        """The free slots booking offers at a station, grouped by day."""
        return await pages.free_page(request, "station", station_id, first, last)

    @app.get("/diary-cars/{district_id}/free-windows", response_class=HTMLResponse, tags=["pages"])
    async def diary_car_free_windows(
        request: Request,
        district_id: str,
        first: str | None = Query(None, alias="from"),
        last: str | None = Query(None, alias="to"),
    ) -> HTMLResponse:
        """The free home-visit windows booking offers for a diary car, grouped by day."""
        return await pages.free_page(request, "diary-car", district_id, first, last)

    @app.get("/appointments", response_class=HTMLResponse, tags=["pages"])
    async def find_appointment(request: Request, reference: str | None = Query(None, alias="id")) -> Response:
        """Go to an appointment's history from the reference typed on the county page."""
        reference = (reference or "").strip()
        if not reference:
            why = "Type the appointment's reference to see its history."
            return error_page(request, 422, "Enter an appointment reference", why, back="/")
        return RedirectResponse(f"/appointments/{quote(reference, safe='')}", status_code=303)

    @app.get("/appointments/{appointment_id}", response_class=HTMLResponse, tags=["pages"])
    async def appointment_history(request: Request, appointment_id: str) -> HTMLResponse:
        """An appointment's history as a timeline: when, what, and who."""
        return await pages.history_page(request, appointment_id)

    return app
