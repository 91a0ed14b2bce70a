"""The projections and booking services as the pages call them: the httpx client and its errors."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from services.common.config import settings
from services.common.logging import correlation_id
from web.sign_in import caller_token

BACKENDS = ("projections", "booking", "roster")
# The pages are ready when the diaries and booking answer. Without the roster only its own pages
# fail (in words) and officers show by id: that must not take booking off the load balancer.
PROBED = ("projections", "booking")
# The pages wait this long for a service; a slower answer is shown as "not answering".
BACKEND_TIMEOUT = httpx.Timeout(5.0)
HEALTH_TIMEOUT = 3.0

T = TypeVar("T")


class BackendError(Exception):
    """A service did not answer (status None) or answered with an error status."""

    def __init__(self, service: str, status: int | None, detail: str) -> None:
        super().__init__(f"{service}: {status or 'no answer'}: {detail}")
        self.service = service
        self.status = status
        self.detail = detail


def _reason(response: httpx.Response) -> str:
    """The sentence an error body gives (services answer {detail, errors: [{field, reason}]})."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no reason given"
    if not isinstance(body, dict):
        return response.reason_phrase or "no reason given"
    parts: list[str] = []
    if isinstance(body.get("detail"), str):
        parts.append(body["detail"])
    for error in body.get("errors") or ():
        if isinstance(error, dict) and isinstance(error.get("reason"), str):
            where = error.get("field")
            named = isinstance(where, str) and where
            parts.append(f"{where}: {error['reason']}" if named else error["reason"])
    # The services' bodies are short; the cap only guards the page against a runaway answer.
    return ("; ".join(dict.fromkeys(parts)) or response.reason_phrase or "no reason given")[:300]


@dataclass
class Backends:
    """The projections, booking and roster services as this process calls them."""

    client: httpx.AsyncClient
    urls: Mapping[str, str]

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        # The signed-in person's own token (web.sign_in): never one of the pages' own.
        token = caller_token.get()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # Passing the correlation id on lets one page view be followed through every service's logs.
        cid = correlation_id.get()
        if cid:
            headers["x-correlation-id"] = cid
        return headers

    async def get(self, service: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        """The JSON a service answers to GET ``path``; BackendError when it cannot or will not."""
        try:
            response = await self.client.get(
                self.urls[service] + path, params=dict(params or {}), headers=self._headers()
            )
        except httpx.TimeoutException as exc:
            raise BackendError(service, None, "did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise BackendError(service, None, "is not answering") from exc
        if response.status_code >= 400:
            raise BackendError(service, response.status_code, _reason(response))
        try:
            return response.json()
        except ValueError as exc:
            raise BackendError(service, 502, "answered with something other than JSON") from exc

    async def get_text(
        self, service: str, path: str, params: Mapping[str, str] | None = None
    ) -> tuple[str, str | None]:
        """The text a service answers to GET ``path`` (a CSV) and its Content-Disposition; BackendError
        when it cannot or will not."""
        try:
            response = await self.client.get(
                self.urls[service] + path, params=dict(params or {}), headers=self._headers()
            )
        except httpx.TimeoutException as exc:
            raise BackendError(service, None, "did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise BackendError(service, None, "is not answering") from exc
        if response.status_code >= 400:
            raise BackendError(service, response.status_code, _reason(response))
        return response.text, response.headers.get("content-disposition")

    async def post(self, service: str, path: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        """The status and JSON body a service answers to POST ``path``; BackendError only when it
        does not answer (a refusal is the caller's to read: a lost race's alternatives, a field's reason).
        """
        try:
            response = await self.client.post(self.urls[service] + path, json=body, headers=self._headers())
        except httpx.TimeoutException as exc:
            raise BackendError(service, None, "did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise BackendError(service, None, "is not answering") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400 and not isinstance(answer, dict):
            raise BackendError(service, response.status_code, _reason(response))
        return response.status_code, answer

    async def read(
        self, kind: type[T], service: str, path: str, params: Mapping[str, str] | None = None
    ) -> T:
        """The answer to GET ``path`` read as ``kind``; BackendError when it is missing or misshapen."""
        payload = await self.get(service, path, params)
        try:
            return TypeAdapter(kind).validate_python(payload)
        except ValidationError as exc:
            raise BackendError(service, 502, "answered in a shape these pages do not understand") from exc

    async def probe(self, service: str) -> None:
        """Raise unless the service's /health answers 200."""
        response = await self.client.get(self.urls[service] + "/health", timeout=HEALTH_TIMEOUT)
        if response.status_code != 200:
            raise RuntimeError(f"{self.urls[service]}/health answered {response.status_code}")


def service_url(service: str) -> str:
    """A service's base URL: APPOINTMENTS_<SERVICE>_URL, else this host on its contract port."""
    explicit = os.environ.get(f"APPOINTMENTS_{service.upper()}_URL")
    return (explicit or f"http://127.0.0.1:{settings().port(service)}").rstrip("/")
