"""A consumer checks a record against the contract and then acts on it: its event is parsed once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas import envelope as envelope_module
from schemas.envelope import Envelope
from schemas.roster import DutyEnded

DATA = {"officer_id": "o-1", "duty_id": "d-1", "ends_at": "2027-02-03T18:00:00Z", "early": True,
        "reason": "sick", "ended_at": "2027-02-03T12:00:00Z"}  # fmt: skip


def envelope(data: dict[str, Any]) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), event_type="DutyEnded", schema_version=1, source="urn:test",
        subject="officer:o-1", time=datetime(2027, 2, 3, 12, tzinfo=UTC), correlation_id="c", data=data,
    )  # fmt: skip


def test_an_envelopes_event_is_parsed_once_and_a_copy_with_other_data_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = envelope_module.parse_event  # type: ignore[attr-defined]

    def counting(event_type: str, version: int, data: dict[str, Any]) -> Any:
        calls.append(event_type)
        return real(event_type, version, data)

    monkeypatch.setattr(envelope_module, "parse_event", counting)
    first = envelope(dict(DATA))
    assert first.domain_event() is first.domain_event()
    assert len(calls) == 1
    other = first.model_copy(update={"data": {**DATA, "reason": "court"}})
    ended = other.domain_event()
    assert isinstance(ended, DutyEnded) and ended.reason == "court"
    assert len(calls) == 2
    assert first == first.model_copy()  # equality is the fields', the parse leaves no trace
