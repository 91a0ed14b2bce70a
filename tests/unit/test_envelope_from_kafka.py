"""Reading a record back builds the envelope the validating model builds, and refuses what it refuses."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.envelope import Envelope

TEXT = st.text(min_size=1, max_size=40)
JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS
)  # fmt: skip


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    """An envelope as a service would publish it, made through the validating model."""
    return Envelope(
        event_id=draw(st.uuids()), event_type=draw(TEXT), schema_version=draw(st.integers(1, 9)),
        source=draw(TEXT), subject=draw(st.text(max_size=40)), time=draw(INSTANTS),
        correlation_id=draw(TEXT), causation_id=draw(st.none() | TEXT), actor=draw(st.none() | TEXT),
        data=draw(st.dictionaries(st.text(max_size=12), JSON_VALUE, max_size=6)),
    )  # fmt: skip


@given(envelopes())
def test_a_record_reads_back_as_the_envelope_the_validating_model_makes(envelope: Envelope) -> None:
    read = Envelope.from_kafka(envelope.kafka_headers(), envelope.kafka_value())
    validated = Envelope.model_validate(read.model_dump())
    assert read == envelope == validated
    assert read.model_fields_set == validated.model_fields_set
    assert read.time.tzinfo is UTC and read.model_dump_json() == validated.model_dump_json()


def headers(**changed: str) -> list[tuple[str, bytes]]:
    base = {
        "ce_id": str(uuid.uuid4()), "ce_type": "SlotBooked", "ce_source": "urn:test",
        "ce_time": "2026-12-01T09:30:00Z", "ce_subject": "station:hertford:2026-12-02",
        "correlation_id": "c-1", "schema_version": "1",
    }  # fmt: skip
    return [(k, v.encode()) for k, v in (base | changed).items()]


def read_as_the_model_would(hs: list[tuple[str, bytes]], value: bytes) -> Envelope:
    """The envelope as the validating model reads a record (the path before the cheaper one)."""
    h = {k: v.decode() for k, v in hs}
    data: Any = json.loads(value)
    if not isinstance(data, dict):
        raise ValueError("record value is not a JSON object")
    return Envelope(
        event_id=uuid.UUID(h["ce_id"]), event_type=h["ce_type"], schema_version=int(h["schema_version"]),
        source=h["ce_source"], subject=h.get("ce_subject", ""),
        time=datetime.fromisoformat(h["ce_time"].replace("Z", "+00:00")),
        correlation_id=h.get("correlation_id") or h["ce_id"], data=data,
    )  # fmt: skip


@pytest.mark.parametrize(
    "value",
    [
        b'\xef\xbb\xbf{"a": 1}',  # a UTF-8 byte-order mark: json.loads reads it
        '{"a": "é"}'.encode("utf-16"),  # UTF-16, which json.loads detects
        b'{"a": NaN, "b": Infinity}',
        b'{"a": 1, "a": 2}',  # the last of a repeated key
        b'{"a": 123456789012345678901234567890, "b": -0.0, "c": 1e400}',
        b'{"a": "\\ud83d\\ude00", "b": "\\u00e9"}',
    ],
)
def test_json_the_model_path_accepted_is_accepted_and_read_the_same(value: bytes) -> None:
    hs = headers()
    expected, read = read_as_the_model_would(hs, value), Envelope.from_kafka(hs, value)
    assert repr(read) == repr(expected)  # repr: NaN is never equal to itself


@pytest.mark.parametrize(
    "value",
    [b'{"a": "x\x01y"}', b'{"a": [1,]}', b'{"a": 01}', b'{"a": 1} x', b'{"a": "\xff"}', b"[1]", b'"a"'],
)
def test_json_the_model_path_refused_is_refused(value: bytes) -> None:
    with pytest.raises(ValueError):
        read_as_the_model_would(headers(), value)
    with pytest.raises(ValueError):
        Envelope.from_kafka(headers(), value)


@pytest.mark.parametrize(
    "changed",
    [
        {"ce_time": "2026-12-01T09:30:00"},  # no offset: not an instant
        {"ce_time": "yesterday"},
        {"ce_id": "not-a-uuid"},
        {"schema_version": "one"},
    ],
)
def test_headers_the_model_refused_are_refused(changed: dict[str, str]) -> None:
    with pytest.raises((ValueError, ValidationError)):
        read_as_the_model_would(headers(**changed), b"{}")
    with pytest.raises(ValueError):
        Envelope.from_kafka(headers(**changed), b"{}")


def test_an_envelope_read_back_is_frozen_like_a_validated_one() -> None:
    read = Envelope.from_kafka(headers(), b'{"appointment_id": "a-1"}')
    with pytest.raises(ValidationError):
        read.actor = "someone"  # type: ignore[misc]
    assert read.model_copy(update={"actor": "x"}).actor == "x" and read.actor is None
