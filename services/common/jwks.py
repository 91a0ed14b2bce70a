"""The identity provider's published signing keys (a JWKS document), as production checks tokens.

Keys are fetched when a token names one not seen yet, and again once they are older than
``max_age`` (a key the provider withdrew stops verifying). Fetches are asynchronous and
at most one per ``min_refetch_seconds``, so a stream of tokens naming made-up key ids
cannot turn into a stream of requests to the provider.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from services.common.auth import InvalidToken, KeysUnavailable
from services.common.logging import get_logger

log = get_logger(__name__)

FETCH_TIMEOUT_SECONDS = 5.0


class JwksKeys:
    """The public keys at a JWKS URL, by key id."""

    def __init__(
        self,
        url: str,
        *,
        max_age_seconds: float = 900.0,
        min_refetch_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self.max_age, self.min_refetch = url, max_age_seconds, min_refetch_seconds
        self._transport, self._clock = transport, clock
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = self._tried_at = float("-inf")
        self._failing = False
        self._lock = asyncio.Lock()

    async def key_for(self, token: str) -> Any:
        """The published key the token's ``kid`` names (the only key, when it names none)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidToken("the token is not a well-formed JWT") from exc
        key = self._known(kid)
        if key is not None and self._clock() - self._fetched_at < self.max_age:
            return key
        async with self._lock:
            stale = self._clock() - self._fetched_at >= self.max_age
            if self._clock() - self._tried_at >= self.min_refetch and (self._known(kid) is None or stale):
                await self._fetch()
            key = self._known(kid)
        if key is None and self._failing:
            raise KeysUnavailable("the identity provider's keys cannot be fetched just now")
        if key is None:
            raise InvalidToken("the token's signing key is not among the issuer's published keys")
        return key

    def _known(self, kid: object) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if isinstance(kid, str) else None

    async def _fetch(self) -> None:
        self._tried_at = self._clock()
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=FETCH_TIMEOUT_SECONDS) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                published = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            # The keys already held stay in use until the provider answers again.
            log.warning("token keys not fetched", error=type(exc).__name__)
            self._failing = True
            return
        self._keys = {k.key_id: k for k in published if k.public_key_use in (None, "sig")}
        self._fetched_at, self._failing = self._tried_at, False
        log.info("token keys fetched", keys=len(self._keys))
