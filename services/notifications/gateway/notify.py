"""Sending through GOV.UK Notify with its official client, within Notify's documented limits.

- at most 3,000 texts a rolling minute (``aiolimiter``'s leaky bucket, configurable);
- the daily allowance counted (a metric) and a clear warning from 90% of it; the count of the
  day is kept in PostgreSQL by the consumer (``resume`` carries it on after a restart);
- 5xx answers, ``HTTP503Error`` and time-outs (the client reports those as 503) are tried
  again with exponential backoff and jitter (``tenacity``); a 429 waits longer and goes again;
- a 400 is final: ``NotifyRefused`` carries Notify's reason (with any digits of a number
  taken out) for ``SmsFailed``; a 403 (a wrong key) is not the text's fault: it is raised as
  ``NotifyUnavailable`` so the text stays unacknowledged and is sent once the key is right.

The client is synchronous (requests): each call runs in a worker thread, with one client
per thread, since the client is not thread-safe.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from aiolimiter import AsyncLimiter
from notifications_python_client.errors import APIError, HTTP503Error
from notifications_python_client.notifications import NotificationsAPIClient
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random,
    wait_random_exponential,
)

from services.common.logging import get_logger
from services.notifications.gateway import metrics

log = get_logger(__name__)
# The client logs each failed call with its URL and Notify's message; ours say it without values.
logging.getLogger("notifications_python_client").setLevel(logging.CRITICAL)
_DIGITS = re.compile(r"\+?\d[\d ]{5,}\d")
NEAR_ALLOWANCE = 0.9


class NotifyRefused(Exception):
    """Notify refused the text for good (a 400); ``reason`` is Notify's, without any number in it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotifyUnavailable(Exception):
    """Notify could not take the text now (still failing after the retries, or our key refused)."""


@dataclass(frozen=True)
class Sms:
    """What ``send_sms_notification`` takes."""

    phone_number: str
    template_id: str
    personalisation: dict[str, str]
    reference: str


class SmsGateway(Protocol):
    """Where texts go (Notify, or its simulator through the same client)."""

    async def send(self, sms: Sms) -> str:
        """Send one text; returns the gateway's id for it. Raises NotifyRefused or NotifyUnavailable."""
        ...


def _status(exc: BaseException) -> int | None:
    return exc.status_code if isinstance(exc, APIError) else None


def retryable(exc: BaseException) -> bool:
    """5xx, 503 (and time-outs, which the client reports as 503) and 429 are tried again."""
    status = _status(exc)
    return isinstance(exc, HTTP503Error) or (status is not None and (status >= 500 or status == 429))


def reason_of(exc: APIError) -> str:
    """Notify's reason for refusing, in one line, with any number taken out."""
    message: Any = exc.message
    if isinstance(message, list):
        message = "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in message)
    return _DIGITS.sub("[number]", str(message))[:300] or "refused by Notify"


class NotifyGateway:
    """GOV.UK Notify through ``NotificationsAPIClient.send_sms_notification``."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        sms_sender_id: str | None = None,
        rate_per_minute: int = 3000,
        daily_allowance: int = 250_000,
        timeout_seconds: float = 10.0,
        attempts: int = 5,
        max_wait_seconds: float = 30.0,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._sender = sms_sender_id
        self._timeout = timeout_seconds
        self._limiter = AsyncLimiter(rate_per_minute, 60)
        self._allowance = daily_allowance
        self._attempts = attempts
        self._max_wait = max_wait_seconds
        self._local = threading.local()
        self._today: date | None = None
        self._sent_today = 0
        metrics.ALLOWANCE.set(daily_allowance)

    def _wait(self, state: RetryCallState) -> float:
        """Backoff with jitter; a 429 (Notify's rolling minute is full) waits a good while longer."""
        exc = state.outcome.exception() if state.outcome else None
        if exc is not None and _status(exc) == 429:
            return float(wait_random(self._max_wait / 3, self._max_wait)(state))
        return float(wait_random_exponential(multiplier=0.2, max=self._max_wait)(state))

    def _client(self) -> NotificationsAPIClient:
        client: NotificationsAPIClient | None = getattr(self._local, "client", None)
        if client is None:
            client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
                self._api_key, base_url=self._base_url, timeout=self._timeout
            )
            self._local.client = client
        return client

    def _post(self, sms: Sms) -> dict[str, Any]:
        response: dict[str, Any] = self._client().send_sms_notification(  # type: ignore[no-untyped-call]
            phone_number=sms.phone_number,
            template_id=sms.template_id,
            personalisation=sms.personalisation,
            reference=sms.reference,
            sms_sender_id=self._sender,
        )
        return response

    async def send(self, sms: Sms) -> str:
        """Send one text within the rate limit, retrying what Notify documents as retryable."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(retryable),
            wait=self._wait,
            stop=stop_after_attempt(self._attempts),
            before_sleep=lambda state: _note_retry(state.outcome.exception() if state.outcome else None),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    async with self._limiter:
                        response = await asyncio.to_thread(self._post, sms)
        except APIError as exc:
            status = _status(exc)
            if status == 400:
                metrics.REFUSED.inc()
                raise NotifyRefused(reason_of(exc)) from None
            raise NotifyUnavailable(f"Notify answered {status}") from None
        self._count()
        return str(response.get("id", ""))

    def resume(self, day: date, sent: int) -> None:
        """Carry on the count of ``day`` (UTC) from ``sent``, as kept before a restart."""
        if day == datetime.now(UTC).date():
            self._today, self._sent_today = day, sent
            metrics.SENT_TODAY.set(sent)

    def _count(self) -> None:
        today = datetime.now(UTC).date()
        if today != self._today:
            self._today, self._sent_today = today, 0
        self._sent_today += 1
        metrics.SENT.inc()
        metrics.SENT_TODAY.set(self._sent_today)
        used = self._sent_today / self._allowance
        if used >= NEAR_ALLOWANCE and (
            self._sent_today == int(self._allowance * NEAR_ALLOWANCE) or used >= 1
        ):
            log.warning(
                "near Notify's daily allowance of texts",
                sent_today=self._sent_today,
                allowance=self._allowance,
                share=round(used, 3),
            )


def _note_retry(exc: BaseException | None) -> None:
    status = _status(exc) if exc is not None else None
    why = "429" if status == 429 else "5xx" if status and status >= 500 else "other"
    metrics.RETRIED.labels(why).inc()
    log.info("Notify call tried again", status=status)
