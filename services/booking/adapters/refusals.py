"""How booking's refusals are answered over HTTP: the status each kind of refusal gets."""

from __future__ import annotations

from services.booking.domain.errors import BookingRefused, Conflict, Unknown

# Walked by the refusal's MRO, so a new refusal answers as its nearest listed ancestor does;
# anything else is bad input (422: the field and the reason).
STATUSES: dict[type[BookingRefused], int] = {
    Unknown: 404,  # no appointment, offer or waitlist entry under that id
    Conflict: 409,  # a lost race, a state that forbids it, a request id used for another booking
}


def status_of(exc: BookingRefused) -> int:
    """The HTTP status a refusal is answered with (422 unless its kind says otherwise)."""
    return next((STATUSES[kind] for kind in type(exc).__mro__ if kind in STATUSES), 422)
