"""The shapes of the services' answers that the pages read (extra fields are ignored)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict


class _Answer(BaseModel):
    # Services may add fields (the contract grows by adding); the pages read only what they show.
    model_config = ConfigDict(extra="ignore")


class DiaryLineAnswer(_Answer):
    """One appointment of a projections diary answer."""

    appointment_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: str | None = None
    officer_id: str | None = None
    status: str
    case_reference: str | None = None
    thrive_risk: str | None = None


class DiaryAnswer(_Answer):
    """A projections diary answer."""

    appointments: list[DiaryLineAnswer]


class FreeSlotAnswer(_Answer):
    """One free slot of a booking answer."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: str | None = None


class HistoryAnswer(_Answer):
    """One event of a projections history answer."""

    event_id: str
    event_type: str
    actor: str | None = None
    occurred_at: AwareDatetime
    source: str = ""
    data: dict[str, Any] = {}
