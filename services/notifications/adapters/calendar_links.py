"""Links to an appointment's .ics: unguessable without the service's key, and naming nobody."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable


def calendar_key(appointment_id: str, secret: str) -> str:
    """The 16 characters that open one appointment's calendar file."""
    return hmac.new(secret.encode(), f"calendar:{appointment_id}".encode(), hashlib.sha256).hexdigest()[:16]


def calendar_links(public_url: str, secret: str) -> Callable[[str], str]:
    """How the texts link an appointment's .ics: ``{public_url}/calendar/{id}.ics?k={key}``."""
    base = public_url.rstrip("/")

    def link(appointment_id: str) -> str:
        return f"{base}/calendar/{appointment_id}.ics?k={calendar_key(appointment_id, secret)}"

    return link


def opens(appointment_id: str, key: str, secret: str) -> bool:
    """Whether ``key`` is the one of this appointment's calendar file."""
    # As bytes: compare_digest refuses strings that are not ASCII, and a link's key may be anything.
    return hmac.compare_digest(key.encode(errors="replace"), calendar_key(appointment_id, secret).encode())
