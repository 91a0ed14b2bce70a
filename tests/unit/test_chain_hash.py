"""The hash chain's content is the canonical JSON of the event's fields, byte for byte.

Stored hashes are proved again by audits: however the content is assembled, it must be
exactly json.dumps of the whole object with sorted keys and no spaces.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from schemas.envelope import Envelope
from services.common.eventstore import canonical_json, chain_hash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
texts = st.text()
maybe_texts = st.none() | st.text()


def as_whole(prev: bytes | None, env: Envelope, version: int) -> bytes:
    """The content serialised as one object: what the hash was first defined as."""
    content = json.dumps(
        {
            "stream_id": env.subject, "version": version, "event_id": str(env.event_id),
            "event_type": env.event_type, "schema_version": env.schema_version, "data": env.data,
            "correlation_id": env.correlation_id, "causation_id": env.causation_id, "actor": env.actor,
            "time": env.time.isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()  # fmt: skip
    return hashlib.sha256((prev or b"") + content).digest()


@given(
    data=st.dictionaries(st.text(), json_values, max_size=6),
    subject=texts,
    event_type=texts,
    correlation=texts,
    causation=maybe_texts,
    actor=maybe_texts,
    version=st.integers(min_value=1, max_value=2**31 - 1),
    schema_version=st.integers(min_value=1, max_value=99),
    offset_minutes=st.integers(min_value=-720, max_value=720),
    prev=st.none() | st.binary(min_size=32, max_size=32),
)
def test_the_hash_is_of_the_whole_object_in_canonical_json(
    data: dict[str, Any], subject: str, event_type: str, correlation: str, causation: str | None,
    actor: str | None, version: int, schema_version: int, offset_minutes: int, prev: bytes | None,
) -> None:  # fmt: skip
    env = Envelope(
        event_id=uuid.uuid4(),
        event_type=event_type,
        schema_version=schema_version,
        source="urn:test",
        subject=subject,
        time=datetime(2026, 3, 29, 0, 30, tzinfo=timezone(timedelta(minutes=offset_minutes))),
        correlation_id=correlation,
        causation_id=causation,
        actor=actor,
        data=data,
    )
    expected = as_whole(prev, env, version)
    assert chain_hash(prev, env, version) == expected
    assert chain_hash(prev, env, version, canonical_json(env.data)) == expected


def test_a_changed_field_changes_the_hash() -> None:
    env = Envelope(
        event_id=uuid.uuid4(), event_type="SlotBooked", schema_version=1, source="urn:test",
        subject="station:x:2026-12-01", time=datetime(2026, 12, 1, 9, tzinfo=UTC), correlation_id="c",
        causation_id=None, actor="call-taker:1", data={"room_id": "r1"},
    )  # fmt: skip
    moved = env.model_copy(update={"data": {"room_id": "r2"}})
    assert chain_hash(None, env, 1) != chain_hash(None, moved, 1)
    assert chain_hash(None, env, 1) != chain_hash(None, env, 2)
