"""What a call taker (or a control-room system) sends to book: personal data still in clear.

These never leave the booking service as they are: the handler validates the
phone number and postcode, seals the personal parts under the caller's key, and
only then builds the domain command.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.booking import IncidentGrade, ThriveRisk, VulnerabilityFlag
from services.common.fields import Day, LocalTime, Visible

# Texts as sent: visible characters, no control characters (free text keeps its line breaks).
Text = Annotated[str, Visible(4000, lines=True)]
Short = Annotated[str, Visible(200)]


class _Form(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AddressForm(_Form):
    """A UK postal address."""

    line1: Short
    line2: Short | None = None
    town: Short
    postcode: Annotated[str, Visible(8, min_length=5)]


class CallerForm(_Form):
    """The person the appointment is with."""

    name: Short
    phone: Annotated[str, Visible(20, min_length=5)] | None = None
    address: AddressForm | None = None


class BriefingForm(_Form):
    """What the attending officer needs to know before they arrive."""

    case_reference: Annotated[str, Visible(64)]
    summary: Text
    background: Text | None = None
    vulnerability: Text | None = None
    access_needs: Text | None = None
    vulnerability_flags: tuple[VulnerabilityFlag, ...] = Field(default=(), max_length=20)
    preferred_contact: Annotated[str, Field(pattern="^(sms|phone|none)$")] = "sms"
    language: Annotated[str, Field(pattern="^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    interpreter_needed: bool = False
    thrive_risk: ThriveRisk
    safe_to_text: bool
    safe_to_call: bool


class BookingForm(_Form):
    """A request to book a station slot or a diary-car window, in London local time."""

    day: Day = Field(description="The Europe/London date, e.g. 2026-12-01.")
    start: LocalTime = Field(description="The local start time of the slot or window, e.g. 17:00.")
    incident_grade: IncidentGrade = Field(
        description="urgent and priority incidents are refused: they go to emergency response."
    )
    caller: CallerForm
    briefing: BriefingForm
    request_id: Short | None = Field(
        default=None, description="The caller's request id; the same id twice books once."
    )
