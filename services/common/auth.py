"""Bearer tokens: JWTs carrying one role of the contract, checked on every request.

A token is a JWT (RFC 7519) signed with a public-key algorithm from an allowlist, with
``iss``, ``aud``, ``sub``, ``exp``, ``iat`` (``nbf`` optional) and the role in a claim.
Locally it is signed with the state folder's Ed25519 key (``services.common.token_keys``);
in production it comes from the force's identity provider, checked against its JWKS.
The subject is a collar number or a system's name, never a member of the public.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import jwt


class Role(StrEnum):
    """The roles of CONTRACT.md."""

    CALL_TAKER = "call-taker"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    GATEWAY = "gateway"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    """Who is calling: their role and subject, as written into event metadata."""

    role: Role
    subject: str

    @property
    def actor(self) -> str:
        """How the caller is recorded on the events they cause."""
        return f"{self.role.value}:{self.subject}"


class InvalidToken(ValueError):
    """The token is missing a part, forged, expired, not yet valid, or not meant for us."""


class KeysUnavailable(ConnectionError):
    """The issuer's published keys cannot be fetched just now (an outage, not the caller's fault)."""


@dataclass(frozen=True)
class TokenRules:
    """What a token must say to be accepted: who issued it, for whom, how it is signed."""

    issuer: str
    audience: str
    algorithms: Sequence[str]
    role_claim: str = "role"
    leeway_seconds: float = 10.0


def issue_token(
    role: Role,
    subject: str,
    key: Any,
    rules: TokenRules,
    ttl: timedelta,
    *,
    now: datetime | None = None,
    key_id: str | None = None,
) -> str:
    """A JWT for ``role`` and ``subject`` valid from ``now`` for ``ttl``, signed with ``key``."""
    issued = int((now or datetime.now(UTC)).timestamp())
    claims = {
        "iss": rules.issuer,
        "aud": rules.audience,
        "sub": subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
        rules.role_claim: role.value,
    }
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, key, algorithm=rules.algorithms[0], headers=headers)


# What each refusal of PyJWT's means to the caller, most specific first.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token is not meant for this system (audience)"),
    (jwt.InvalidIssuerError, "the token was not issued by the trusted issuer"),
    (jwt.InvalidAlgorithmError, "the token's signature algorithm is not allowed"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.DecodeError, "the token is not a well-formed JWT"),
)


def decode_token(token: str, key: Any, rules: TokenRules) -> tuple[Caller, float]:
    """Verify a token against ``key``; the caller and when the token expires. Raises InvalidToken."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(rules.algorithms),
            audience=rules.audience,
            issuer=rules.issuer,
            leeway=rules.leeway_seconds,
            options={"require": ["iss", "aud", "sub", "exp", "iat"]},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"the token has no {exc.claim} claim") from exc
    except jwt.PyJWTError as exc:
        reason = next((why for kind, why in _REASONS if isinstance(exc, kind)), None)
        raise InvalidToken(reason or "the token's signature does not verify") from exc
    role = claims.get(rules.role_claim)
    if isinstance(role, list) and len(role) == 1:  # identity providers often send roles as a list
        role = role[0]
    if not isinstance(role, str) or role not in Role._value2member_map_:
        raise InvalidToken(f"the token's {rules.role_claim} claim names no single role of the contract")
    return Caller(Role(role), str(claims["sub"])), float(claims["exp"]) + rules.leeway_seconds


class KeySource(Protocol):
    """Where the public key that checks a token comes from: a local file, or an issuer's JWKS."""

    async def key_for(self, token: str) -> Any:
        """The key to verify ``token`` with; InvalidToken or KeysUnavailable when there is none."""
        ...


@dataclass(frozen=True)
class StaticKey:
    """One public key, read once (the local stack's, or one a deployment mounts)."""

    key: Any

    async def key_for(self, token: str) -> Any:
        """The one key, whatever the token says."""
        return self.key


class TokenVerifier:
    """Checks bearer tokens, remembering the ones it verified until they expire.

    Every request is checked, and a signature check costs far more than the rest of
    the request's routing: a bounded map from the token to its caller and expiry lets
    a call taker's thousandth request skip it. A token is only ever remembered after
    it verified, and a remembered one is refused again once its ``exp`` has passed.
    """

    def __init__(
        self,
        keys: KeySource,
        rules: TokenRules,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys, self.rules, self.cache_size, self.clock = keys, rules, cache_size, clock
        self._verified: dict[str, tuple[Caller, float]] = {}

    async def caller(self, token: str) -> Caller:
        """The caller a valid token names; raises InvalidToken (or KeysUnavailable)."""
        hit = self._verified.get(token)
        if hit is not None:
            if self.clock() < hit[1]:
                return hit[0]
            del self._verified[token]
            raise InvalidToken("the token has expired")
        caller, until = decode_token(token, await self.keys.key_for(token), self.rules)
        if len(self._verified) >= self.cache_size:
            del self._verified[next(iter(self._verified))]  # the oldest remembered
        self._verified[token] = (caller, until)
        return caller


_COLLAR = re.compile(r"^(?:[a-z]{1,5}-)?([a-z]{0,2}[0-9]{2,6})$", re.IGNORECASE)


def collar_of(subject: str) -> str | None:
    """The collar number a token's subject names (``4021``, ``pc-4021``), upper-cased; None if none.

    How an officer's token (or signed-in user) is matched to the roster's officer: the identity
    provider puts the collar number in ``sub``, optionally behind a rank and a hyphen.
    """
    found = _COLLAR.match(subject.strip())
    return None if found is None else found[1].upper()
