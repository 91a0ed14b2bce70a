"""The parsing edges of what people send: each value is read, or refused naming the field; nothing else.

Dates at the ends of the calendar, times that are not on the clock, unicode, control characters
and very long strings, against the field types (``services.common.fields``), the forms, and the
booking service's HTTP edge in-process. The published schema of each field (its pattern, as a
JSON Schema validator reads it) accepts exactly what the service accepts.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from services.booking.main import create_app
from services.common.auth import Role
from services.common.fields import Day, Instant, LocalTime, Visible
from services.common.token_keys import local_issuer
from services.roster.app.forms import DutyForm, EndDutyForm
from tests.unit.booking.in_process import booking_service, on_duty
from tests.unit.test_web import FakeServices, pages, sign_in

EDGES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Sent(BaseModel):
    """One of each field type, as a form holds them."""

    day: Day | None = None
    start: LocalTime | None = None
    at: Instant | None = None
    name: Annotated[str, Visible(20)] | None = None
    summary: Annotated[str, Visible(40, lines=True)] | None = None


def _read(field: str, value: object) -> Sent | list[tuple[object, ...]]:
    """The form read, or the locations of its errors."""
    try:
        return Sent.model_validate({field: value})
    except ValidationError as exc:
        return [tuple(e["loc"]) for e in exc.errors()]


def _published(field: str) -> Any:
    """The field's schema as the OpenAPI document publishes it, as a JSON Schema validator reads it."""
    schema = Sent.model_json_schema()["properties"][field]["anyOf"][0]
    return jsonschema_rs.validator_for(schema, validate_formats=True)


# Anything a JSON body or a query can carry, leaning on the edges.
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x9F).filter(lambda c: c < " " or c >= "\x7f")
TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=5), CONTROL, st.text(max_size=5)),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(0, 5000)),
    st.sampled_from(["", " ", "\u3000", "\u00a0x", "\ufeff", "\u0085", "a\n", "\ud800", "x\x00"]),
)
DAY_TEXTS = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01", "2026-02-29", "2028-02-29",
                     "2100-02-29", "2026-13-01", "2026-1-1", "20261201", "2026-12-01T00:00", "1700000000"]),
    TEXTS,
)  # fmt: skip
TIME_TEXTS = st.one_of(
    st.times().map(time.isoformat),
    st.sampled_from(["24:00", "23:59:60", "17:00Z", "17:00:00+01:00", "7:00", "17", "17:00:00.5", "-1:00"]),
    TEXTS,
)
INSTANT_TEXTS = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-23, minutes=-59))])).map(
        datetime.isoformat
    ),
    st.datetimes().map(datetime.isoformat),  # no offset
    st.sampled_from(["9999-12-31T23:59:59Z", "2026-12-01T17:00:00z", "2026-12-01 17:00:00Z", "2026-12-01"]),
    TEXTS,
)
# Not a string (None is left to the forms: these fields are optional).
NOT_TEXT = st.one_of(st.booleans(), st.integers(), st.floats(), st.lists(st.integers(), max_size=2))


def _without_surrogates(text: str) -> bool:
    return not any("\ud800" <= c <= "\udfff" for c in text)


# What a client can put in a query at all: httpx refuses a query over 64 KiB before sending it
# (hypothesis found one: two 5,000-character runs of a 4-byte character, percent-encoded).
URL_BYTES = 16_384


def _in_a_url(text: str) -> bool:
    return _without_surrogates(text) and len(quote(text)) <= URL_BYTES


@EDGES
@given(st.one_of(DAY_TEXTS, NOT_TEXT))
@example("9999-12-31")
def test_a_day_is_a_date_of_2000_to_2099_or_a_refusal_naming_the_field(sent: object) -> None:
    read = _read("day", sent)
    if isinstance(read, Sent):
        assert isinstance(sent, str) and read.day == date.fromisoformat(sent)
        assert date(2000, 1, 1) <= read.day <= date(2099, 12, 31)
    else:
        assert read == [("day",)]
    if isinstance(sent, str) and _without_surrogates(sent):
        assert _published("day").is_valid(sent) == isinstance(read, Sent)


@EDGES
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_every_date_of_the_span_is_read(day: date) -> None:
    assert _read("day", day.isoformat()) == Sent(day=day)


@EDGES
@given(st.one_of(TIME_TEXTS, NOT_TEXT))
def test_a_start_is_a_wall_clock_time_or_a_refusal_naming_the_field(sent: object) -> None:
    read = _read("start", sent)
    if isinstance(read, Sent):
        assert isinstance(sent, str) and read.start == time.fromisoformat(sent)
        assert read.start is not None and read.start.tzinfo is None
    else:
        assert read == [("start",)]
    if isinstance(sent, str) and _without_surrogates(sent):
        assert _published("start").is_valid(sent) == isinstance(read, Sent)


@EDGES
@given(st.one_of(INSTANT_TEXTS, NOT_TEXT))
def test_an_instant_has_an_offset_and_a_year_of_the_span_or_is_refused_naming_the_field(sent: object) -> None:
    read = _read("at", sent)
    if isinstance(read, Sent):
        assert read.at is not None and read.at.tzinfo is not None and 2000 <= read.at.year <= 2099
    else:
        assert read == [("at",)]
    if isinstance(sent, str) and _without_surrogates(sent):
        assert _published("at").is_valid(sent) == isinstance(read, Sent)


@EDGES
@given(st.one_of(TEXTS, NOT_TEXT))
def test_a_text_is_visible_characters_within_its_length_or_a_refusal_naming_the_field(sent: object) -> None:
    for field, longest, breaks in (("name", 20, False), ("summary", 40, True)):
        read = _read(field, sent)
        if isinstance(read, Sent):
            assert isinstance(sent, str) and getattr(read, field) == sent and 1 <= len(sent) <= longest
            allowed = "\t\n\r" if breaks else ""
            assert not any((c < " " or "\x7f" <= c <= "\x9f") and c not in allowed for c in sent)
            assert sent.strip()
        else:
            assert read == [(field,)]
        if isinstance(sent, str) and _without_surrogates(sent):
            assert _published(field).is_valid(sent) == isinstance(read, Sent)


@EDGES
@given(st.one_of(INSTANT_TEXTS, NOT_TEXT), TEXTS)
def test_a_roster_form_reads_or_names_each_field_it_refuses(instant: object, reason: object) -> None:
    body = {"duty": "appointments", "station_id": "hitchin", "starts_at": instant, "ends_at": instant}
    for form, fields in ((DutyForm, body), (EndDutyForm, {"ends_at": instant, "reason": reason})):
        try:
            form.model_validate(fields)
        except ValidationError as exc:
            assert {e["loc"][0] for e in exc.errors()} <= set(fields)


# The booking service in-process: one loop for every example, a fresh county and diary for each.
LOOP = asyncio.new_event_loop()
MONDAY = date(2030, 6, 17)  # ahead of the real clock the HTTP edge reads
VALID: dict[str, Any] = {
    "day": MONDAY.isoformat(),
    "start": "17:00",
    "incident_grade": "scheduled",
    "caller": {"name": "Jane Citizen", "phone": "07700 900123",
               "address": {"line1": "1 High Street", "town": "Cheshunt", "postcode": "EN8 9AA"}},
    "briefing": {"case_reference": "41/12345/26", "summary": "Bike stolen", "thrive_risk": "low",
                 "safe_to_text": True, "safe_to_call": True},
}  # fmt: skip
LEAVES = [
    ("day",), ("start",), ("incident_grade",), ("request_id",), ("caller",), ("caller", "name"),
    ("caller", "phone"), ("caller", "address", "postcode"), ("caller", "address", "line1"),
    ("briefing", "summary"), ("briefing", "case_reference"), ("briefing", "background"),
]  # fmt: skip
PERSONAL = {("caller", "name"), ("caller", "phone"), ("caller", "address", "postcode"),
            ("caller", "address", "line1"), ("briefing", "summary"), ("briefing", "background")}  # fmt: skip


def _with(leaf: tuple[str, ...], value: object) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(VALID))
    parent = body
    for key in leaf[:-1]:
        parent = parent[key]
    parent[leaf[-1]] = value
    return body


async def _post(path: str, content: bytes) -> httpx.Response:
    handlers, store = await booking_service()
    await on_duty(store, "officer-a", day=MONDAY)
    app = create_app()
    app.state.handlers = handlers
    token = local_issuer().token(Role.CALL_TAKER, "ct-1")
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://booking") as client:
        return await client.post(path, content=content, headers=headers)


def test_the_valid_booking_books() -> None:
    response = LOOP.run_until_complete(_post("/stations/cheshunt/appointments", json.dumps(VALID).encode()))
    assert response.status_code == 201, response.text


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(LEAVES),
    st.one_of(DAY_TEXTS, TIME_TEXTS, TEXTS, NOT_TEXT, st.none(), st.sampled_from(["urgent", "priority"])),
)
@example(("day",), "9999-12-31")
@example(("caller", "name"), "Jane\x00Citizen")
def test_a_booking_books_or_is_refused_naming_the_field_never_a_5xx_nor_echoing_the_caller(
    leaf: tuple[str, ...], value: object
) -> None:
    try:
        content = json.dumps(_with(leaf, value)).encode()
    except (UnicodeEncodeError, ValueError):
        content = json.dumps(_with(leaf, value), ensure_ascii=True).encode()
    response = LOOP.run_until_complete(_post("/stations/cheshunt/appointments", content))
    assert response.status_code in (201, 409, 422), response.text
    body = response.json()
    if response.status_code == 422:
        fields = [e["field"] for e in body["errors"]]
        named = ".".join(leaf)
        assert any(f == named or f.startswith(f"{named}.") or named.startswith(f"{f}.") for f in fields), body
        assert all(e["reason"] for e in body["errors"])
    if leaf in PERSONAL and isinstance(value, str) and len(value.strip()) >= 6:
        assert value not in response.text


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(*[st.one_of(DAY_TEXTS.filter(_in_a_url), st.none())] * 2)  # a URL holds no lone surrogate
def test_free_slots_answer_or_name_the_bad_date_never_a_5xx(first: str | None, last: str | None) -> None:
    params = {k: v for k, v in (("from", first), ("to", last)) if v is not None}

    async def ask() -> httpx.Response:
        handlers, _ = await booking_service()
        app = create_app()
        app.state.handlers = handlers
        token = local_issuer().token(Role.CALL_TAKER, "ct-1")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://booking") as client:
            return await client.get(
                "/stations/cheshunt/free-slots", params=params, headers={"Authorization": f"Bearer {token}"}
            )

    response = LOOP.run_until_complete(ask())
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert {e["field"] for e in response.json()["errors"]} <= {"query.from", "query.to", "to", "from"}


@pytest.mark.parametrize("station", ["gotham", "x" * 5000, "hitchin\x00"])
def test_an_unknown_station_answers_404_naming_it(station: str) -> None:
    async def ask() -> httpx.Response:
        handlers, _ = await booking_service()
        app = create_app()
        app.state.handlers = handlers
        token = local_issuer().token(Role.CALL_TAKER, "ct-1")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://booking") as client:
            path = f"/stations/{quote(station, safe='')}/free-slots"
            return await client.get(path, headers={"Authorization": f"Bearer {token}"})

    response = LOOP.run_until_complete(ask())
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "detail": "there is no station with this id",
        "errors": [{"field": "station_id", "reason": "there is no station with this id"}],
        "code": "not-found",
    }


@pytest.mark.parametrize(
    "url",
    [
        "/stations/cheshunt/diary?day=9999-12-31",
        "/diary-cars/dacorum/diary?day=0001-01-01",
        "/stations/cheshunt/diary?at=9999-12-31T23:59:59-23:59",
        "/stations/cheshunt/free-slots?from=9999-12-31",
        "/stations/cheshunt/free-slots?from=2026-12-01&to=9999-12-31",
    ],
)
def test_the_pages_refuse_a_day_at_the_calendar_s_ends_with_a_422_page(url: str) -> None:
    with TestClient(pages(FakeServices()), raise_server_exceptions=False) as client:
        assert sign_in(client, "ps-2710").status_code == 303
        assert client.get(url).status_code == 422
