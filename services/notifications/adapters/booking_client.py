"""Booking, as the notifications service asks it to cancel an appointment the caller cancelled by text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

import httpx

from schemas.booking import CancelReason
from services.common.auth import Role
from services.common.consumer import Transient
from services.common.token_keys import local_issuer

# Booking's own reason code for a caller's CANCEL reply (the reply itself, ReplyReceived with
# intent cancel on notifications.events, shares its correlation id).
CANCEL_REASON: CancelReason = "cancelled-by-text"


class Booking(Protocol):
    """What the replies need of booking."""

    async def cancel_by_text(self, appointment_id: str, correlation_id: str) -> bool:
        """Cancel as the public; False when booking will not (already cancelled, begun, unknown)."""
        ...

    async def accept_offer_by_text(self, appointment_id: str, correlation_id: str) -> bool:
        """Take the slot offered from the waitlist; False when the offer is gone (lapsed, taken)."""
        ...


def local_token() -> str:
    """A call taker's token for the notifications service, signed with the local key (never in production)."""
    return local_issuer().token(Role.CALL_TAKER, "notifications", ttl=timedelta(minutes=5))


class HttpBooking:
    """Booking's HTTP API."""

    def __init__(self, base_url: str, token: Callable[[], str], timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    async def cancel_by_text(self, appointment_id: str, correlation_id: str) -> bool:
        """POST /appointments/{id}/cancel, initiated by the public."""
        body = {"initiated_by": "public", "reason": CANCEL_REASON}
        return await self._post(f"/appointments/{appointment_id}/cancel", body, correlation_id)

    async def accept_offer_by_text(self, appointment_id: str, correlation_id: str) -> bool:
        """POST /offers/{id}/accept."""
        return await self._post(f"/offers/{appointment_id}/accept", None, correlation_id)

    async def _post(self, path: str, body: object, correlation_id: str) -> bool:
        headers = {"Authorization": f"Bearer {self._token()}", "x-correlation-id": correlation_id}
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                answer = await client.post(f"{self._base}{path}", json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise Transient(f"booking did not answer: {type(exc).__name__}") from None
        if answer.status_code >= 500 or answer.status_code in (401, 403, 429):
            raise Transient(f"booking answered {answer.status_code}")
        return answer.status_code in (200, 201)
