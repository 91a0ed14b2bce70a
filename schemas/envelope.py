"""The envelope every record carries: CloudEvents Kafka binding headers plus our ids.

On the wire the value is the event's JSON data (CloudEvents binary content mode)
and the headers are ``ce_id``, ``ce_type``, ``ce_source``, ``ce_subject``,
``ce_time``, ``ce_specversion``, ``ce_datacontenttype``, ``correlation_id``,
``causation_id``, ``schema_version`` and ``actor`` (who did it: role and
subject of the bearer token, never a person's name).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator
from pydantic_core import from_json

from schemas.base import DomainEvent, parse_event

SPEC_VERSION = "1.0"
SOURCE_PREFIX = "urn:herts-police:station-appointments:"
_REQUIRED = ("ce_id", "ce_type", "ce_source", "ce_time")
# Events parsed lately, by the id of their data (a consumer's fetch is at most a few thousand).
_PARSED: OrderedDict[int, tuple[dict[str, Any], tuple[str, int], DomainEvent]] = OrderedDict()
_PARSED_SIZE = 8192


class Envelope(BaseModel):
    """One event as stored and published: identity, causality, and the data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    event_type: str
    schema_version: int
    source: str
    subject: str
    time: AwareDatetime
    correlation_id: str
    causation_id: str | None = None
    actor: str | None = None
    data: dict[str, Any]

    def domain_event(self) -> DomainEvent:
        """The registered event (upcast) this envelope carries; parsed once, however often asked.

        A consumer checks every record against the contract before acting, and then acts on
        the same event: without this, each record was validated by its model twice. Raises
        UnknownEvent or ValidationError as ``parse_event`` does.
        """
        key = id(self.data)
        found = _PARSED.get(key)
        # The cache holds the data itself, so its id cannot be reused while the entry lives.
        if found is not None and found[0] is self.data and found[1] == (self.event_type, self.schema_version):
            _PARSED.move_to_end(key)
            return found[2]
        event = parse_event(self.event_type, self.schema_version, self.data)
        _PARSED[key] = (self.data, (self.event_type, self.schema_version), event)
        while len(_PARSED) > _PARSED_SIZE:
            _PARSED.popitem(last=False)
        return event

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """The CloudEvents Kafka binding headers plus correlation, causation, version, actor."""
        headers = {
            "ce_id": str(self.event_id),
            "ce_type": self.event_type,
            "ce_source": self.source,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat().replace("+00:00", "Z"),
            "ce_specversion": SPEC_VERSION,
            "ce_datacontenttype": "application/json",
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id or "",
            "schema_version": str(self.schema_version),
            "actor": self.actor or "",
        }
        return [(name, value.encode()) for name, value in headers.items()]

    def kafka_value(self) -> bytes:
        """The record value: the event data as compact JSON."""
        return json.dumps(self.data, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_kafka(cls, headers: Any, value: bytes) -> Envelope:
        """Read a record back; raises ValueError on anything malformed.

        Every field is checked here as the model's validators would check it (a UUID, an
        integer version, an instant with its offset, a JSON object), then the envelope is
        built without running them a second time: this is every consumer's per-record path.
        """
        h = {k: (v.decode() if isinstance(v, bytes | bytearray) else str(v)) for k, v in headers}
        missing = [n for n in _REQUIRED if not h.get(n)]
        if missing:
            raise ValueError(f"missing CloudEvents headers: {', '.join(missing)}")
        data = _json_object(value)
        if not isinstance(data, dict):
            raise ValueError("record value is not a JSON object")
        time = datetime.fromisoformat(h["ce_time"].replace("Z", "+00:00"))
        if time.utcoffset() is None:
            raise ValueError(f"ce_time {h['ce_time']!r} has no UTC offset")
        return cls._checked(
            {
                "event_id": UUID(h["ce_id"]),
                "event_type": h["ce_type"],
                "schema_version": int(h.get("schema_version") or 1),
                "source": h["ce_source"],
                "subject": h.get("ce_subject", ""),
                "time": time.astimezone(UTC),
                "correlation_id": h.get("correlation_id") or h["ce_id"],
                "causation_id": h.get("causation_id") or None,
                "actor": h.get("actor") or None,
                "data": data,
            }
        )

    @classmethod
    def _checked(cls, values: dict[str, Any]) -> Envelope:
        # What model_construct leaves (every field set, no extras, no private attributes),
        # without its per-field walk over aliases and defaults, a third of a record's cost.
        envelope = cls.__new__(cls)
        object.__setattr__(envelope, "__dict__", values)
        object.__setattr__(envelope, "__pydantic_fields_set__", set(values))
        object.__setattr__(envelope, "__pydantic_extra__", None)
        object.__setattr__(envelope, "__pydantic_private__", None)
        return envelope


def _json_object(value: bytes) -> Any:
    """The record value parsed as JSON: pydantic-core's parser, which is about twice as fast.

    Whatever it refuses (a byte-order mark, UTF-16, a lone surrogate) goes to ``json.loads``,
    so exactly what was accepted before is accepted, and what was refused is refused with
    the same reason.
    """
    try:
        return from_json(value)
    except ValueError:
        return json.loads(value)


def source_of(service: str) -> str:
    """The CloudEvents source of a service."""
    return f"{SOURCE_PREFIX}{service}"
