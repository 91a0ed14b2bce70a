"""Why a diary day refuses a command: the field and the reason in plain words.

How each refusal is answered over HTTP is the adapters' business (``adapters/refusals.py``).
"""

from __future__ import annotations

from typing import ClassVar

from schemas.booking import RefusalCode, Slot


class BookingRefused(Exception):
    """Base of every refusal: bad input unless a subclass says otherwise."""

    code: ClassVar[RefusalCode] = "invalid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Refusal(BookingRefused):
    """Bad input: the field and the reason."""


class EmergencyResponse(Refusal):
    """An urgent or priority incident: it goes to emergency response, never to a diary."""

    code: ClassVar[RefusalCode] = "emergency-response"

    def __init__(self, grade: str) -> None:
        super().__init__(
            "incident_grade",
            f"{grade} incidents get the emergency response, with an officer sent now: "
            "they are never booked as appointments",
        )


class NotLiveYet(Refusal):
    """The district had not begun scheduled appointments on that date."""

    code: ClassVar[RefusalCode] = "not-live"


class InThePast(Refusal):
    """The time asked for has already begun."""

    code: ClassVar[RefusalCode] = "past"


class ClosedDay(Refusal):
    """The station or diary car takes no appointments that day."""

    code: ClassVar[RefusalCode] = "closed"


class OutsideOpeningHours(Refusal):
    """The time is not the start of one of the day's slots or windows."""

    code: ClassVar[RefusalCode] = "outside-hours"


class ClockChange(Refusal):
    """The local time does not exist, or happens twice, at a Europe/London clock change."""

    code: ClassVar[RefusalCode] = "clock-change"


class Unknown(BookingRefused):
    """Nothing is known under the id the command names."""


class Conflict(BookingRefused):
    """The diary as it stands forbids this, however well formed the command is."""


class SlotTaken(Conflict):
    """The lost race: no room or officer is free then; the nearest free slots come with it."""

    code: ClassVar[RefusalCode] = "slot-taken"

    def __init__(self, reason: str, alternatives: list[Slot]) -> None:
        super().__init__("start", reason)
        self.alternatives = alternatives


class UnknownAppointment(Unknown):
    """No such appointment on this day."""

    def __init__(self, appointment_id: str) -> None:
        super().__init__("appointment_id", f"no appointment {appointment_id} on this day")


class WrongStatus(Conflict):
    """The appointment's state forbids this (e.g. cancelling one already attended)."""


class RequestReused(Conflict):
    """A request id names one booking: used again for a different one, it is refused."""

    code: ClassVar[RefusalCode] = "request-reused"

    def __init__(self, request_id: str) -> None:
        super().__init__("request_id", f"request id {request_id} was already used for a different booking")
