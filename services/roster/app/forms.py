"""What a supervisor sends: checked for shape at the edge, then turned into commands."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from schemas.roster import NAME_MAX_LENGTH, Duty, DutyEndReason, WithdrawalReason
from services.common.fields import Instant, Visible

# Safe in a URL path and in a stream id (no colon); a client's own uuid fits.
ClientId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Your own id for this record (e.g. a uuid); sending it again repeats nothing.",
    ),
]
# A station's or district's id as the county names it.
PlaceId = Annotated[str, Visible(64)]
CollarNumber = Annotated[
    str, Field(pattern=r"^[A-Z]{0,2}[0-9]{2,6}$", description="The officer's collar number, e.g. 4127.")
]


def _tidy(name: str) -> str:
    """The name as kept: spaces around it dropped and runs of spaces inside made one."""
    return " ".join(name.split())


# A whole name as staff write it: one line of visible characters, 1 to NAME_MAX_LENGTH of them.
OfficerName = Annotated[
    str,
    Visible(NAME_MAX_LENGTH),
    AfterValidator(_tidy),
    Field(description="The officer's name as staff know it, e.g. Priya Shah (shown to staff only)."),
]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OfficerForm(_Form):
    """Register an officer at a home station."""

    officer_id: ClientId | None = Field(
        default=None, description="Default: an id derived from the collar number."
    )
    collar_number: CollarNumber
    station_id: PlaceId
    district_id: PlaceId | None = Field(default=None, description="Default: the station's district.")
    name: OfficerName | None = Field(
        default=None,
        description="The officer's name. Optional for clients written before names (none is then"
        " recorded); sent again for an officer registered the same way, a different name replaces it.",
    )


class DutyForm(_Form):
    """Put an officer on a duty for a span of time (UTC or with an offset)."""

    duty_id: ClientId | None = None
    duty: Duty
    station_id: PlaceId | None = Field(default=None, description="Required for appointment duty.")
    district_id: PlaceId | None = Field(
        default=None, description="The diary car's district; default the station's, else the officer's."
    )
    starts_at: Instant
    ends_at: Instant


class EndDutyForm(_Form):
    """End a duty: at ``ends_at``, or now when it is left out."""

    ends_at: Instant | None = None
    reason: DutyEndReason = Field(
        description="Why: `planned` when it ends as planned, else the code of why it ends early."
    )


class WithdrawalForm(_Form):
    """Take an officer off appointment or diary-car duty for a span, with the reason."""

    withdrawal_id: ClientId | None = None
    starts_at: Instant
    ends_at: Instant
    reason: WithdrawalReason


# A person's whole name as they sign in with it (the identity provider's or the local user's).
StaffName = Annotated[
    str,
    Visible(NAME_MAX_LENGTH),
    AfterValidator(_tidy),
    Field(description="Your name as staff know you, e.g. Ana Shah (shown to staff only)."),
]


class StaffNameForm(_Form):
    """The name the signed-in person goes by (their subject and role come from their token)."""

    name: StaffName
