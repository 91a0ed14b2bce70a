"""Which keys sign and check tokens: the local stack's key pair, or the identity provider's JWKS.

Locally an Ed25519 pair lives in ``settings().token_keys`` (``<state>/tokens``), made on
first use by whichever process needs it first: ``signing-key.pem`` (mode 0600) signs,
``public-key.pem`` checks. With ``APPOINTMENTS_TOKEN_JWKS_URL`` set the services check
tokens against the provider's published keys instead, and nothing here signs any.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.auth import Caller, Role, StaticKey, TokenRules, TokenVerifier, decode_token, issue_token
from services.common.config import Settings, settings
from services.common.jwks import JwksKeys

SIGNING_KEY = "signing-key.pem"
PUBLIC_KEY = "public-key.pem"
LOCAL_ALGORITHM = "EdDSA"
# A local shift: long enough for a day's work, short enough that a pasted token soon stops working.
DEFAULT_TTL = timedelta(hours=8)


def rules_of(cfg: Settings) -> TokenRules:
    """What a token must say to be accepted here."""
    return TokenRules(
        cfg.token_issuer,
        cfg.token_audience,
        tuple(cfg.token_algorithms),
        cfg.token_role_claim,
        cfg.token_leeway_seconds,
    )


def ensure_local_keys(folder: Path) -> None:
    """Make the folder's key pair unless it holds one; several processes may race to do it."""
    if (folder / PUBLIC_KEY).exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Written whole into a private draft folder, then renamed into place: one process wins.
    draft = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fd = os.open(draft / SIGNING_KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private)
    (draft / PUBLIC_KEY).write_bytes(public)
    try:
        draft.rename(folder)
    except OSError:
        shutil.rmtree(draft, ignore_errors=True)  # another process made the pair first
    if not (folder / PUBLIC_KEY).exists():
        raise RuntimeError(f"{folder} exists but holds no {PUBLIC_KEY}")


def key_id(public_pem: bytes) -> str:
    """The key's RFC 7638 thumbprint, named in each token's ``kid`` header."""
    key = serialization.load_pem_public_key(public_pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class LocalIssuer:
    """Signs tokens with the local key pair, as `appointments token` and the local stack do."""

    key: Any
    key_id: str
    rules: TokenRules

    def token(
        self, role: Role, subject: str, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None
    ) -> str:
        """A token for ``role`` and ``subject``, valid for ``ttl`` from ``now``."""
        return issue_token(role, subject, self.key, self.rules, ttl, now=now, key_id=self.key_id)


@lru_cache(maxsize=4)
def _issuer(folder: Path, issuer: str, audience: str, role_claim: str) -> LocalIssuer:
    ensure_local_keys(folder)
    key = serialization.load_pem_private_key((folder / SIGNING_KEY).read_bytes(), password=None)
    rules = TokenRules(issuer, audience, (LOCAL_ALGORITHM,), role_claim)
    return LocalIssuer(key, key_id((folder / PUBLIC_KEY).read_bytes()), rules)


def local_issuer(cfg: Settings | None = None) -> LocalIssuer:
    """The local stack's token issuer; production has none (its tokens come from the provider)."""
    cfg = cfg or settings()
    if cfg.is_production:
        raise RuntimeError("in production tokens come from the identity provider, not a local key")
    return _issuer(cfg.token_keys.resolve(), cfg.token_issuer, cfg.token_audience, cfg.token_role_claim)


def local_public_key(cfg: Settings) -> Any:
    """The public key of the local pair (made on first use outside production)."""
    public = cfg.token_keys / PUBLIC_KEY
    if not public.exists() and cfg.is_production:
        raise RuntimeError(f"no token keys: set APPOINTMENTS_TOKEN_JWKS_URL or provide {public}")
    ensure_local_keys(cfg.token_keys)
    return serialization.load_pem_public_key(public.read_bytes())


def verifier_of(cfg: Settings) -> TokenVerifier:
    """How this process checks tokens: the provider's JWKS when configured, else the local key."""
    keys = JwksKeys(cfg.token_jwks_url) if cfg.token_jwks_url else StaticKey(local_public_key(cfg))
    return TokenVerifier(keys, rules_of(cfg))


_current: tuple[Settings, TokenVerifier] | None = None


def token_verifier() -> TokenVerifier:
    """The process's verifier, for the settings in force (rebuilt when they are read again)."""
    global _current
    cfg = settings()
    if _current is None or _current[0] is not cfg:
        _current = (cfg, verifier_of(cfg))
    return _current[1]


def read_local_token(token: str, cfg: Settings | None = None) -> Caller:
    """Check a token against the local public key now; raises InvalidToken."""
    cfg = cfg or settings()
    return decode_token(token, local_public_key(cfg), rules_of(cfg))[0]
