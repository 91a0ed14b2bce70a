"""Why an officer's roster refuses a command: the field and the reason in plain words.

How each refusal is answered over HTTP is the adapters' business (``adapters/refusals.py``).
"""

from __future__ import annotations

from services.roster.domain.state import RosteredDuty


class RosterRefused(Exception):
    """Base of every refusal: bad input unless a subclass says otherwise."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Refusal(RosterRefused):
    """Bad input (an unknown station, a span that ends before it starts)."""


class Unknown(RosterRefused):
    """Nothing is known under the id the command names."""


class UnknownOfficer(Unknown):
    """Nobody with this id is on the roster."""

    def __init__(self, officer_id: str) -> None:
        super().__init__("officer_id", f"no officer {officer_id} is on the roster")


class UnknownDuty(Unknown):
    """The officer has no duty with this id."""

    def __init__(self, duty_id: str) -> None:
        super().__init__("duty_id", f"the officer has no duty {duty_id}")


class Conflict(RosterRefused):
    """The roster as it stands forbids this (an id reused for something else)."""


class DutyClash(Conflict):
    """One officer cannot hold two duties at once: it names the duty already held."""

    def __init__(self, officer_id: str, clashing: RosteredDuty) -> None:
        super().__init__(
            "starts_at",
            f"the officer is already on {clashing.place} from {clashing.starts_at:%Y-%m-%d %H:%M}"
            f" to {clashing.ends_at:%Y-%m-%d %H:%M} UTC (duty {clashing.duty_id});"
            " one officer cannot hold two duties at once",
        )
        self.clashing_officer = officer_id
        self.clashing = clashing
