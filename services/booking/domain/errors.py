"""Why a diary day refuses a command: the field, the reason in plain words, the HTTP answer."""

from __future__ import annotations

from typing import ClassVar

from schemas.booking import RefusalCode, Slot


class BookingRefused(Exception):
    """Base of every refusal; ``http_status`` says how the HTTP adapter answers."""

    http_status: ClassVar[int] = 422
    code: ClassVar[RefusalCode] = "invalid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Refusal(BookingRefused):
    """Bad input: 422 with the field and the reason."""


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


class SlotTaken(BookingRefused):
    """The lost race: no room or officer is free then; 409 with the nearest free slots."""

    http_status: ClassVar[int] = 409
    code: ClassVar[RefusalCode] = "slot-taken"

    def __init__(self, reason: str, alternatives: list[Slot]) -> None:
        super().__init__("start", reason)
        self.alternatives = alternatives


class UnknownAppointment(BookingRefused):
    """No such appointment on this day: 404."""

    http_status: ClassVar[int] = 404

    def __init__(self, appointment_id: str) -> None:
        super().__init__("appointment_id", f"no appointment {appointment_id} on this day")


class WrongStatus(BookingRefused):
    """The appointment's state forbids this (e.g. cancelling one already attended): 409."""

    http_status: ClassVar[int] = 409
