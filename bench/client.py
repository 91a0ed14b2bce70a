"""The benchmark's HTTP client: aiohttp, because the load generator shares the cores it measures.

httpx spent 3.05 ms of CPU per POST against a server that does nothing; aiohttp 0.33 ms
(8 in flight, the same body, on this 2-core machine). The bench's own CPU was taken from
the services it measures, so a heavy client made the path look slower than it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp

# What a failed connection raises: the service is not (yet, or no longer) listening.
Unreachable = (aiohttp.ClientError, OSError, TimeoutError)


@dataclass(frozen=True)
class Answer:
    """A response read to its end: the status, the headers and the body."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode(errors="replace")

    @property
    def is_success(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Client:
    """Keep-alive connections to one service, at most ``connections`` of them, with default headers."""

    def __init__(
        self, base_url: str, *, headers: Mapping[str, str], connections: int, timeout: float
    ) -> None:
        self._session = aiohttp.ClientSession(
            base_url=base_url,
            headers=dict(headers),
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._session.close()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request and read its whole answer."""
        async with self._session.request(
            method, url, params=params, json=json_body, data=content, headers=headers
        ) as response:
            return Answer(response.status, dict(response.headers), await response.read())

    async def get(
        self, url: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        """GET ``url``."""
        return await self.request("GET", url, params=params, headers=headers)

    async def post(self, url: str, *, json: Any) -> Answer:
        """POST ``json`` to ``url``."""
        return await self.request("POST", url, json_body=json)

    async def put(self, url: str, *, content: bytes | str, headers: Mapping[str, str]) -> Answer:
        """PUT ``content`` to ``url``."""
        return await self.request("PUT", url, content=content, headers=headers)
