"""Bearer tokens carrying one role from the contract, signed with HMAC-SHA256.

A token is ``sa1.<base64url(json claims)>.<base64url(signature)>``; the claims are
the role and a subject (a collar number or a system's name, never a member of
the public). Locally `appointments up` prints one token per role.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import hashes, hmac


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
    """The token is malformed, forged, or names an unknown role."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> bytes:
    mac = hmac.HMAC(secret.encode(), hashes.SHA256())
    mac.update(payload.encode())
    return mac.finalize()


def issue_token(role: Role, subject: str, secret: str) -> str:
    """A signed bearer token for ``role`` and ``subject``."""
    claims = _b64(json.dumps({"role": role.value, "sub": subject}, sort_keys=True).encode())
    return f"sa1.{claims}.{_b64(_sign(secret, claims))}"


def read_token(token: str, secret: str) -> Caller:
    """Verify a bearer token and return the caller; raises InvalidToken."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "sa1":
        raise InvalidToken("token is not of the form sa1.<claims>.<signature>")
    _, claims, signature = parts
    mac = hmac.HMAC(secret.encode(), hashes.SHA256())
    mac.update(claims.encode())
    try:
        mac.verify(_unb64(signature))
        data = json.loads(_unb64(claims))
        return Caller(role=Role(data["role"]), subject=str(data["sub"]))
    except Exception as exc:  # any failure means the token is not ours
        raise InvalidToken("token signature or claims are invalid") from exc
