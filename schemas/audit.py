"""The access log's events (Data Protection Act 2018 s.62): who consulted or erased whose personal data.

Kept in the projections' own event store (``events``, hash-chained and append-only), one stream
per London day (``access-log:{YYYY-MM-DD}``), so ``appointments audit verify`` proves them
unaltered. They are not published on Kafka. An entry names people by their subject ids (the
keyed pseudonyms of ``schemas.personal``) and appointments by id: never a name, number, address
or anything of a briefing.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import DomainEvent, event, upcaster
from schemas.booking import Instant

LONDON = ZoneInfo("Europe/London")
# Not a Kafka topic: where these events live (the projections database's event store).
ACCESS_LOG = "projections.access-log"
# An officer's day with its briefings; appointments found by a caller's phone number.
AccessView = Literal["officers-day", "appointment-search"]


class AccessedRecord(BaseModel):
    """One appointment whose personal data was shown, and whose data it was."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    appointment_id: str
    subject_id: str | None = Field(description="The caller's subject id (None: no caller's key named).")


@event
class PersonalDataAccessedV1(DomainEvent):
    """Personal data was consulted: by whom (token subject and role), when, whose, through what."""

    # Version 1: only an officer's day could be opened, so every entry named one.

    model_config = ConfigDict(title="PersonalDataAccessed")
    event_type: ClassVar[str] = "PersonalDataAccessed"
    topic: ClassVar[str] = ACCESS_LOG

    accessed_by: str = Field(description="The token's subject (a collar number or a user name).")
    role: str
    view: Literal["officers-day"]
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


@event
class PersonalDataAccessed(DomainEvent):
    """Personal data was consulted: by whom (token subject and role), when, whose, through what."""

    event_type: ClassVar[str] = "PersonalDataAccessed"
    schema_version: ClassVar[int] = 2
    topic: ClassVar[str] = ACCESS_LOG

    accessed_by: str = Field(description="The token's subject (a collar number or a user name).")
    role: str
    view: AccessView
    channel: str = Field(
        description="How it was read: the HTTP operation, e.g. GET /officers/{officer_id}/days/{day}."
    )
    officer_id: str | None = Field(
        description="Whose day was opened (the roster's officer id); None for an appointment search."
    )
    day: str = Field(description="The Europe/London date opened (a search: the day it was made), YYYY-MM-DD.")
    records: tuple[AccessedRecord, ...]
    subject_ids: tuple[str, ...] = Field(description="Every subject whose data was shown (for the search).")
    accessed_at: Instant

    def stream_key(self) -> str:
        """Not published; the day's stream would be its key."""
        return f"access-log:{self.day}"


@upcaster("PersonalDataAccessed", 1)
def _accessed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return data  # every version-1 entry is an officer's day, which version 2 reads as it was


@event
class PersonalDataErased(DomainEvent):
    """A data subject was erased (key destroyed, copies emptied): who, when, how much; never the data."""

    event_type: ClassVar[str] = "PersonalDataErased"
    topic: ClassVar[str] = ACCESS_LOG

    subject_id: str = Field(description="The erased subject's id (a keyed pseudonym; it opens nothing now).")
    erased_by: str = Field(description="Who erased, as the key's tombstone records it (e.g. admin:4021).")
    channel: str = Field(description="How: the command run, `appointments erase`.")
    key_destroyed: bool = Field(description="False when the key was already gone (the erasure run again).")
    projections_events: int = Field(ge=0, description="Events of the projections' history emptied of it.")
    notifications_rows: int = Field(ge=0, description="Rows of the notifications' own tables emptied.")
    topic_records_deleted: int = Field(ge=0, description="Records deleted from topics holding it in clear.")
    subject_ids: tuple[str, ...] = Field(description="The subject again, as every access-log entry lists it.")
    erased_at: Instant

    def stream_key(self) -> str:
        """Not published; the London day's stream would be its key."""
        return f"access-log:{self.erased_at.astimezone(LONDON).date().isoformat()}"
