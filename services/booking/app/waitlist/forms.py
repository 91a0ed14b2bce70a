"""What a call taker sends to put a caller on a waitlist, and how the waitlist's processes behave."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.booking import IncidentGrade, Place
from services.booking.app.forms import BriefingForm, CallerForm, Short
from services.booking.domain.errors import Conflict, Refusal
from services.common.fields import Day, Visible

MAX_RANGE_DAYS = 28
# Joining with a request id twice joins once: the entry id is derived from it.
REQUEST_NAMESPACE = uuid.UUID("0b6f5a52-8a0e-5c1f-b7d4-2f4e9c3a7d10")


class WaitlistSettings(BaseSettings):
    """How offers behave; each field overridable as APPOINTMENTS_WAITLIST_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_WAITLIST_", extra="ignore")

    # How long a freed slot is held for a caller before it lapses (never beyond its start).
    hold_seconds: float = Field(default=7200.0, gt=0)
    # The longest the lapse timer sleeps when no new offer wakes it; also how often callers
    # whose days are over are taken off (a new deadline always wakes it through NOTIFY).
    poll_seconds: float = Field(default=60.0, gt=0)


@lru_cache(maxsize=1)
def waitlist_settings() -> WaitlistSettings:
    """The process-wide waitlist settings (read once)."""
    return WaitlistSettings()


def default_hold() -> timedelta:
    """How long an offer stands for a caller who asked for no hold of their own."""
    return timedelta(seconds=waitlist_settings().hold_seconds)


class WaitlistForm(BaseModel):
    """A caller for whom nothing suited: where and which days would, plus what a booking needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    place: Place
    place_id: Annotated[str, Visible(64)]
    from_day: Day = Field(description="The first Europe/London date that would suit.")
    to_day: Day = Field(description=f"The last date that would suit; at most {MAX_RANGE_DAYS} days in all.")
    incident_grade: IncidentGrade = Field(
        description="urgent and priority incidents are refused: they go to emergency response."
    )
    caller: CallerForm
    briefing: BriefingForm
    request_id: Short | None = Field(
        default=None, description="The caller's request id; the same id twice joins once."
    )
    offer_hold_seconds: int | None = Field(
        default=None,
        ge=1,
        le=7 * 24 * 3600,
        description="How long an offer to this caller stands (default: the service's hold, 2 hours).",
    )


class RequestUsed(Conflict):
    """A request id that already joined another waitlist."""


def check_range(from_day: date, to_day: date) -> None:
    """Refuse a range longer than a waitlist covers (the domain refuses reversed and past ones)."""
    if to_day >= from_day and (to_day - from_day).days + 1 > MAX_RANGE_DAYS:
        raise Refusal("to_day", f"a waitlist covers at most {MAX_RANGE_DAYS} days: ask for a shorter range")


def entry_id_for(request_id: str | None) -> str:
    """The appointment id a waitlist entry books under: fixed by the request id when there is one."""
    return str(uuid.uuid5(REQUEST_NAMESPACE, request_id)) if request_id else str(uuid.uuid4())
