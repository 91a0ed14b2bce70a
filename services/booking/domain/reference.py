"""The county reference stream: a new version is recorded only when the document changed.

A load is decided as a whole: the document must be whole (``county_checks``), and it must not
strand booked appointments (``stranded``: the handler hands over the diary days holding
appointments at the places the load changes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from schemas.base import DomainEvent
from schemas.reference import CountyReferenceLoaded
from services.booking.domain.calendar import local_date
from services.booking.domain.county_checks import check_county
from services.booking.domain.state import DiaryDay
from services.booking.domain.stranded import WouldStrand, stranded
from services.common.reference import County

STREAM = "county:hertfordshire"

# Every event the county's stream holds; ``evolve`` must handle each (mypy checks it does).
CountyEvent = CountyReferenceLoaded


@dataclass(frozen=True)
class LoadCounty:
    """Put this version of the county's reference data in force (``appointments seed``).

    ``held``: the diary days from today holding appointments at the places this version
    changes (``stranded.places_changed``), as they stand under the county in force.
    """

    county: County
    now: datetime
    held: tuple[DiaryDay, ...] = ()


@dataclass(frozen=True)
class CountyState:
    """The reference data in force, and its fingerprint."""

    county: County | None = None
    sha256: str | None = None


def initial_state() -> CountyState:
    """The county before any reference data was loaded."""
    return CountyState()


def fingerprint(document: dict[str, Any]) -> str:
    """SHA-256 of the document's canonical JSON."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def event_of(event: DomainEvent) -> CountyEvent:
    """This stream's event, narrowed; TypeError for an event that does not belong to it."""
    if isinstance(event, CountyReferenceLoaded):
        return event
    raise TypeError(f"{event.event_type} is not an event of the county's reference data")


def decide(command: LoadCounty, state: CountyState) -> list[CountyEvent]:
    """Record the county's reference data, unless this very version is already in force.

    Refused (``CountyRefused``, every problem named) when the document is not whole, and
    (``WouldStrand``, each place named) when it would strand booked appointments.
    """
    match command:
        case LoadCounty():
            document = command.county.model_dump(mode="json")
            sha = fingerprint(document)
            if sha == state.sha256:
                return []
            check_county(command.county, local_date(command.now))
            left = stranded(command.county, command.held, command.now)
            if left:
                raise WouldStrand(left)
            loaded = CountyReferenceLoaded(
                county_id="hertfordshire", sha256=sha, document=document, loaded_at=command.now
            )
            return [loaded]
        case _:
            assert_never(command)


def evolve(state: CountyState, event: CountyEvent) -> CountyState:
    """The reference data after a load."""
    match event:
        case CountyReferenceLoaded():
            return CountyState(County.model_validate(event.document), event.sha256)
        case _:
            assert_never(event)


def fold(state: CountyState, events: Iterable[DomainEvent]) -> CountyState:
    """The reference data after all these events (as stored or as just decided), in order."""
    for event in events:
        state = evolve(state, event_of(event))
    return state
