"""The county reference stream: a new version is recorded only when the document changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.base import DomainEvent
from schemas.reference import CountyReferenceLoaded
from services.common.reference import County

STREAM = "county:hertfordshire"


@dataclass(frozen=True)
class CountyState:
    """The reference data in force, and its fingerprint."""

    county: County | None = None
    sha256: str | None = None


def fingerprint(document: dict[str, Any]) -> str:
    """SHA-256 of the document's canonical JSON."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def decide_load(county: County, now: datetime, state: CountyState) -> list[DomainEvent]:
    """Record the county's reference data, unless this very version is already in force."""
    document = county.model_dump(mode="json")
    sha = fingerprint(document)
    if sha == state.sha256:
        return []
    return [CountyReferenceLoaded(county_id="hertfordshire", sha256=sha, document=document, loaded_at=now)]


def evolve(state: CountyState, event: DomainEvent) -> CountyState:
    """The reference data after a load."""
    if isinstance(event, CountyReferenceLoaded):
        return CountyState(County.model_validate(event.document), event.sha256)
    return state
