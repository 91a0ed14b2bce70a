"""Who is signed in to the pages: named users, their sessions, and the token each one calls with.

Locally `appointments up` (or the pages, on first start) makes a few named users per role
in the state folder: ``web-users.json`` holds their scrypt hashes, ``web-passwords.txt``
(mode 0600) the passwords for whoever runs the stack. A signed-in person's session is a
cookie signed with HMAC-SHA256 under a key of the state folder; it expires, carries its
own CSRF token, and names the person and their role. The pages then call the services with
a token issued for that person (``caller_token``), never one of their own: the services'
role matrix is the pages' role matrix, and every call is recorded under the person's name.
With the force's identity provider configured (web.oidc), people sign in there instead, and the
pages call the services with the provider's own access token, carried in the signed session. When
the provider also gave a refresh token, the session carries it sealed (AES-GCM under a key of the
state folder, as the signing key is), so the browser holding the cookie cannot read it, and the
session may then last up to ``SESSION_LIMIT`` from signing in, its access token renewed (web.oidc).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.common.auth import Role
from services.common.config import Settings, state_secret
from services.common.token_keys import local_issuer

SESSION_COOKIE = "sa_session"
CSRF_COOKIE = "sa_csrf"
SESSION_TTL = timedelta(hours=8)  # one shift
# However often the provider renews a signed-in person's access token, the session ends this long
# after they signed in (a long shift and its overtime): a refresh cannot keep it going for ever.
SESSION_LIMIT = timedelta(hours=12)
# The token a page's calls to the services carry: the signed-in person's, set per request.
caller_token: ContextVar[str | None] = ContextVar("caller_token", default=None)

# Who `appointments up` makes locally: (user name, role, the name shown).
LOCAL_PEOPLE: tuple[tuple[str, Role, str], ...] = (
    ("ct-ana", Role.CALL_TAKER, "Ana Call-Taker"),
    ("ct-ben", Role.CALL_TAKER, "Ben Call-Taker"),
    ("pc-4021", Role.OFFICER, "PC 4021 Priya Officer"),
    ("pc-4188", Role.OFFICER, "PC 4188 Tom Officer"),
    ("ps-2710", Role.SUPERVISOR, "PS 2710 Sam Supervisor"),
    ("au-lee", Role.AUDITOR, "Lee Auditor"),
    ("ad-kim", Role.ADMIN, "Kim Admin"),
)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)


@dataclass(frozen=True)
class User:
    """A person who may sign in to the pages."""

    username: str
    role: Role
    name: str
    salt: bytes
    hashed: bytes


class Users:
    """The people who may sign in, from a file of their password hashes."""

    def __init__(self, people: dict[str, User]) -> None:
        self._people = people
        self._dummy_salt = secrets.token_bytes(16)

    @classmethod
    def load(cls, path: Path) -> Users:
        """Read ``path`` (as ``write_local_users`` writes it)."""
        raw = json.loads(path.read_text())
        return cls(
            {
                name: User(
                    name,
                    Role(entry["role"]),
                    entry["name"],
                    bytes.fromhex(entry["salt"]),
                    bytes.fromhex(entry["hash"]),
                )
                for name, entry in raw.items()
            }
        )

    def check(self, username: str, password: str) -> User | None:
        """The user, if the password is theirs; the same work is done for an unknown name."""
        user = self._people.get(username)
        salt = user.salt if user else self._dummy_salt
        given = _hash(password, salt)
        if user is None or not hmac.compare_digest(given, user.hashed):
            return None
        return user


def users_path(cfg: Settings) -> Path:
    """Where the local users' hashes live."""
    return cfg.state_dir / "web-users.json"


def passwords_path(cfg: Settings) -> Path:
    """Where the local users' passwords are kept for whoever runs the stack (mode 0600)."""
    return cfg.state_dir / "web-passwords.txt"


def ensure_local_users(cfg: Settings) -> list[tuple[str, Role, str, str]]:
    """Make the local users once (never in production); returns (user, role, name, password) when made."""
    if cfg.is_production or users_path(cfg).exists():
        return []
    made: list[tuple[str, Role, str, str]] = []
    entries: dict[str, dict[str, str]] = {}
    for username, role, name in LOCAL_PEOPLE:
        password = secrets.token_urlsafe(12)
        salt = secrets.token_bytes(16)
        entries[username] = {
            "role": role.value,
            "name": name,
            "salt": salt.hex(),
            "hash": _hash(password, salt).hex(),
        }
        made.append((username, role, name, password))
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    secret_file = passwords_path(cfg)
    secret_file.touch(mode=0o600)
    secret_file.write_text("".join(f"{u}\t{r.value}\t{p}\n" for u, r, _, p in made))
    draft = users_path(cfg).with_suffix(".draft")
    draft.write_text(json.dumps(entries, indent=1))
    draft.replace(users_path(cfg))
    return made


@dataclass(frozen=True)
class Session:
    """A signed-in person: who, in which role, until when, and the token their forms must carry."""

    username: str
    role: Role
    name: str
    expires_at: int
    csrf: str
    # The identity provider's access token (OpenID Connect sign-in); None for a local user.
    token: str | None = None
    # The provider's refresh token, sealed (``Signer.seal``): never readable in the cookie.
    refresh: str | None = None
    # When ``token`` expires (the session may outlive it when it carries a refresh token).
    token_expires_at: int | None = None

    @property
    def remaining(self) -> timedelta:
        """How long the session has left."""
        return timedelta(seconds=max(0, self.expires_at - int(time.time())))


class Signer:
    """Signs and reads the session and CSRF cookies (HMAC-SHA256 under one secret)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"web-session:" + secret.encode()).digest()
        # Another key from the same secret, for sealing rather than signing.
        self._sealer = AESGCM(hashlib.sha256(b"web-refresh-token:" + secret.encode()).digest())

    def _sign(self, payload: bytes) -> str:
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()
        encode = base64.urlsafe_b64encode
        return f"{encode(payload).decode().rstrip('=')}.{encode(mac).decode().rstrip('=')}"

    def _read(self, text: str | None) -> bytes | None:
        if not text or text.count(".") != 1:
            return None
        body, mac = text.split(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
        except ValueError:
            return None
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        return payload if hmac.compare_digest(given, expected) else None

    def session(self, user: User, now: float | None = None) -> tuple[Session, str]:
        """A new session for ``user`` and its cookie value."""
        expires = int((now or time.time()) + SESSION_TTL.total_seconds())
        return self.session_for(user.username, user.role, user.name, expires)

    def session_for(
        self,
        username: str,
        role: Role,
        name: str,
        expires_at: int,
        token: str | None = None,
        *,
        refresh: str | None = None,
        token_expires_at: int | None = None,
        csrf: str | None = None,
    ) -> tuple[Session, str]:
        """A new session for a person signed in elsewhere (the identity provider), and its cookie;
        ``refresh`` is the provider's refresh token in clear (sealed here), ``csrf`` the one a
        renewed session keeps (the forms on the person's open pages carry it)."""
        sealed = self.seal(refresh, username) if refresh else None
        session = Session(username, role, name, expires_at, csrf or secrets.token_urlsafe(24), token,
                          sealed, token_expires_at)  # fmt: skip
        fields: list[object] = [username, role.value, name, expires_at, session.csrf]
        if token:
            fields.append(token)
            if sealed or token_expires_at is not None:
                fields += [sealed, token_expires_at]
        return session, self._sign(json.dumps(fields).encode())

    def seal(self, secret: str, username: str) -> str:
        """``secret`` encrypted and authenticated (AES-GCM) for ``username``'s cookie alone."""
        nonce = secrets.token_bytes(12)
        sealed = self._sealer.encrypt(nonce, secret.encode(), username.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def unseal(self, sealed: str | None, username: str) -> str | None:
        """What ``seal`` sealed for ``username``, or None when it is not genuine."""
        if not sealed:
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            return self._sealer.decrypt(raw[:12], raw[12:], username.encode()).decode()
        except (ValueError, InvalidTag):
            return None

    def sign(self, value: object) -> str:
        """A JSON value signed for a cookie (the OpenID Connect sign-in's state between its legs)."""
        return self._sign(json.dumps(value).encode())

    def read(self, cookie: str | None) -> object:
        """The JSON value a cookie from ``sign`` carries, or None when it is not genuine."""
        payload = self._read(cookie)
        try:
            return None if payload is None else json.loads(payload)
        except ValueError:
            return None

    def read_session(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie carries, if it is genuine and not expired."""
        payload = self._read(cookie)
        if payload is None:
            return None
        try:
            username, role, name, expires, csrf, *more = json.loads(payload)
            carried = str(more[0]) if more else None
            sealed = str(more[1]) if len(more) > 1 and more[1] else None
            until = int(more[2]) if len(more) > 2 and more[2] is not None else None
            session = Session(
                str(username), Role(role), str(name), int(expires), str(csrf), carried, sealed, until
            )
        except (ValueError, TypeError):
            return None
        return session if session.expires_at > (now or time.time()) else None

    def csrf_pair(self) -> tuple[str, str]:
        """A CSRF token for the sign-in form, and the signed cookie that vouches for it."""
        token = secrets.token_urlsafe(24)
        return token, self._sign(token.encode())

    def csrf_matches(self, cookie: str | None, token: str) -> bool:
        """Whether the form's token is the one the cookie vouches for."""
        vouched = self._read(cookie)
        return vouched is not None and bool(token) and hmac.compare_digest(vouched, token.encode())


def signer_of(cfg: Settings) -> Signer:
    """The pages' cookie signer: APPOINTMENTS_WEB_SESSION_KEY, else (not in production) the state folder's."""
    given = os.environ.get("APPOINTMENTS_WEB_SESSION_KEY")
    if given:
        return Signer(given)
    if cfg.is_production:
        raise RuntimeError("APPOINTMENTS_WEB_SESSION_KEY is not set: production signs sessions with it")
    return Signer(state_secret(cfg.state_dir / "web-session-key"))


class Tokens:
    """Tokens issued for signed-in people, kept for the life of their session."""

    def __init__(self, limit: int = 1024) -> None:
        self._issued: dict[tuple[str, int], str] = {}
        self._limit = limit

    def for_session(self, session: Session) -> str:
        """The token the pages call the services with on ``session``'s behalf (as long as the session):
        the identity provider's own, or (local users) one the local issuer signs."""
        if session.token:
            return session.token
        key = (session.username, session.expires_at)
        token = self._issued.get(key)
        if token is None:
            if len(self._issued) >= self._limit:
                self._issued.clear()
            token = local_issuer().token(
                session.role, session.username, max(session.remaining, timedelta(seconds=1))
            )
            self._issued[key] = token
        return token


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
