"""The access log's events (Data Protection Act 2018 s.62): who consulted whose personal data.

Kept in the projections' own event store (``events``, hash-chained and append-only), one stream
per London day (``access-log:{YYYY-MM-DD}``), so ``appointments audit verify`` proves them
unaltered. They are not published on Kafka. An entry names people by their subject ids (the
keyed pseudonyms of ``schemas.personal``) and appointments by id: never a name, number, address
or anything of a briefing.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import DomainEvent, event
from schemas.booking import Instant

# Not a Kafka topic: where these events live (the projections database's event store).
ACCESS_LOG = "projections.access-log"
AccessView = Literal["officers-day"]


class AccessedRecord(BaseModel):
    """One appointment whose personal data was shown, and whose data it was."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    appointment_id: str
    subject_id: str | None = Field(description="The caller's subject id (None: no caller's key named).")


@event
class PersonalDataAccessed(DomainEvent):
    """Personal data was consulted: by whom (token subject and role), when, whose, through what."""

    event_type: ClassVar[str] = "PersonalDataAccessed"
    topic: ClassVar[str] = ACCESS_LOG

    accessed_by: str = Field(description="The token's subject (a collar number or a user name).")
    role: str
    view: AccessView
    channel: str = Field(
        description="How it was read: the HTTP operation, e.g. GET /officers/{officer_id}/days/{day}."
    )
    officer_id: str = Field(description="Whose day was opened (the roster's officer id).")
    day: str = Field(description="The Europe/London date opened, YYYY-MM-DD.")
    records: tuple[AccessedRecord, ...]
    subject_ids: tuple[str, ...] = Field(description="Every subject whose data was shown (for the search).")
    accessed_at: Instant

    def stream_key(self) -> str:
        """Not published; the day's stream would be its key."""
        return f"access-log:{self.day}"
