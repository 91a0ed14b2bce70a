"""How the roster's refusals are answered over HTTP: the status each kind of refusal gets."""

from __future__ import annotations

from services.roster.domain.errors import Conflict, RosterRefused, Unknown

# Walked by the refusal's MRO, so a new refusal answers as its nearest listed ancestor does;
# anything else is bad input (422: the field and the reason).
STATUSES: dict[type[RosterRefused], int] = {
    Unknown: 404,  # no officer, or no duty of theirs, under that id
    Conflict: 409,  # the roster as it stands forbids it: a clash, an id reused
}


def status_of(exc: RosterRefused) -> int:
    """The HTTP status a refusal is answered with (422 unless its kind says otherwise)."""
    return next((STATUSES[kind] for kind in type(exc).__mro__ if kind in STATUSES), 422)
