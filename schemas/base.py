"""The base of every published event: frozen, versioned, with a stable wire name.

Events are a storage format. A published event changes only by adding a new
version (a new class with the same ``event_type`` and a higher
``schema_version``) plus an upcaster from the old one; stored history is never
rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """A fact that happened; subclasses set ``event_type`` and ``schema_version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    # The topic the event is published on (CONTRACT.md); set per service module.
    topic: ClassVar[str]

    def stream_key(self) -> str:
        """The Kafka key of this event (the contract's key column); overridden per event family."""
        raise NotImplementedError


E = TypeVar("E", bound=type[DomainEvent])

# (event_type, schema_version) -> model; the newest version of each type is the one code uses.
_REGISTRY: dict[tuple[str, int], type[DomainEvent]] = {}
_LATEST: dict[str, type[DomainEvent]] = {}
# (event_type, from_version) -> function turning that version's data into the next version's.
_UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


def event(cls: E) -> E:
    """Class decorator: register an event model under its wire name and version."""
    key = (cls.event_type, cls.schema_version)
    if key in _REGISTRY:
        raise ValueError(f"event {key} registered twice")
    _REGISTRY[key] = cls
    latest = _LATEST.get(cls.event_type)
    if latest is None or latest.schema_version < cls.schema_version:
        _LATEST[cls.event_type] = cls
    return cls


Upcast = Callable[[dict[str, Any]], dict[str, Any]]


def upcaster(event_type: str, from_version: int) -> Callable[[Upcast], Upcast]:
    """Decorator: register how to lift ``event_type`` data from ``from_version`` to the next."""

    def register(fn: Upcast) -> Upcast:
        _UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


class UnknownEvent(ValueError):
    """An event type or version this code does not know."""


def parse_event(event_type: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
    """Read stored or received event data as the newest model, upcasting old versions."""
    latest = _LATEST.get(event_type)
    if latest is None:
        raise UnknownEvent(f"unknown event type {event_type!r}")
    if schema_version > latest.schema_version:
        raise UnknownEvent(
            f"{event_type} v{schema_version} is newer than this code knows (v{latest.schema_version})"
        )
    version = schema_version
    while version < latest.schema_version:
        step = _UPCASTERS.get((event_type, version))
        if step is None:
            raise UnknownEvent(f"no upcaster for {event_type} v{version}")
        data = step(data)
        version += 1
    return latest.model_validate(data)


def latest_events() -> list[type[DomainEvent]]:
    """The newest version of every event type: what code decides, publishes and reads as."""
    return list(_LATEST.values())


def registered_events() -> dict[tuple[str, int], type[DomainEvent]]:
    """Every registered (event_type, version) and its model, for schema export."""
    return dict(_REGISTRY)
