"""Why an officer's roster refuses a command: the field, the reason, the HTTP answer."""

from __future__ import annotations

from typing import ClassVar

from services.roster.domain.state import RosteredDuty


class RosterRefused(Exception):
    """Base of every refusal; ``http_status`` says how the HTTP adapter answers."""

    http_status: ClassVar[int] = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Refusal(RosterRefused):
    """Bad input (an unknown station, a span that ends before it starts): 422."""


class UnknownOfficer(RosterRefused):
    """Nobody with this id is on the roster: 404."""

    http_status: ClassVar[int] = 404

    def __init__(self, officer_id: str) -> None:
        super().__init__("officer_id", f"no officer {officer_id} is on the roster")


class UnknownDuty(RosterRefused):
    """The officer has no duty with this id: 404."""

    http_status: ClassVar[int] = 404

    def __init__(self, duty_id: str) -> None:
        super().__init__("duty_id", f"the officer has no duty {duty_id}")


class Conflict(RosterRefused):
    """The roster as it stands forbids this (an id reused for something else): 409."""

    http_status: ClassVar[int] = 409


class DutyClash(Conflict):
    """One officer cannot hold two duties at once: 409 naming the duty already held."""

    def __init__(self, officer_id: str, clashing: RosteredDuty) -> None:
        super().__init__(
            "starts_at",
            f"the officer is already on {clashing.place} from {clashing.starts_at:%Y-%m-%d %H:%M}"
            f" to {clashing.ends_at:%Y-%m-%d %H:%M} UTC (duty {clashing.duty_id});"
            " one officer cannot hold two duties at once",
        )
        self.clashing_officer = officer_id
        self.clashing = clashing
