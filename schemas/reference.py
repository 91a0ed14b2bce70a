"""Reference-data events, on ``booking.events``: the county's stations, hours and diary cars.

`appointments seed` loads the reviewed data file into booking, which records each
distinct version as one event: so "which opening hours applied on the 9th" is in
the history like everything else. Events change only by adding a version.
"""

from __future__ import annotations

from typing import Any, ClassVar

from schemas.base import DomainEvent, event
from schemas.booking import Instant
from schemas.topics import BOOKING_EVENTS


@event
class CountyReferenceLoaded(DomainEvent):
    """A version of the county's reference data (the whole document) took effect."""

    event_type: ClassVar[str] = "CountyReferenceLoaded"
    topic: ClassVar[str] = BOOKING_EVENTS

    county_id: str
    sha256: str
    document: dict[str, Any]
    loaded_at: Instant

    def stream_key(self) -> str:
        """The Kafka key: the county id."""
        return self.county_id
