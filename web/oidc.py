"""Signing in through the force's identity provider (OpenID Connect), when it is configured.

With ``APPOINTMENTS_WEB_OIDC_ISSUER`` and ``APPOINTMENTS_WEB_OIDC_CLIENT_ID`` set, the sign-in
page sends people to the provider instead of asking for a password (local users stay the
default otherwise). The flow is the authorization code flow with PKCE (S256), a ``state``
and a ``nonce``, through authlib's OAuth 2 client; what the pages must remember between the
two legs (state, nonce, the code verifier, the page asked for) travels in a short-lived
signed cookie, so the pages keep nothing.

Coming back, the ID token is checked as OpenID Connect Core says, with authlib's ``CodeIDToken``
claims: its signature against the provider's published keys (JWKS, fetched again once when a
token names a key not seen yet), the issuer, this client as audience (and ``azp``), expiry,
the nonce, and ``at_hash`` against the access token. The person's role is read from the
ID token's role claim (``APPOINTMENTS_WEB_OIDC_ROLE_CLAIM``, a string or a list) through
``APPOINTMENTS_WEB_OIDC_ROLE_MAP`` ("provider value=contract role" pairs, comma separated; a
value that already names a contract role maps to itself); exactly one contract role must result.

The pages then call the services with the provider's ACCESS token, never one of their own. It
is used only if the services themselves would accept it: it is checked here exactly as they
check it (``services.common.auth.decode_token`` with the services' ``APPOINTMENTS_TOKEN_*``
rules, the key from the provider's JWKS), and must name the same role as the ID token.
Otherwise signing in is refused with what the deployment must configure: the provider issuing
access tokens for the services' audience with the role in the services' claim, and
``APPOINTMENTS_TOKEN_JWKS_URL`` (the provider's ``jwks_uri``), ``APPOINTMENTS_TOKEN_ISSUER``,
``APPOINTMENTS_TOKEN_AUDIENCE`` and ``APPOINTMENTS_TOKEN_ROLE_CLAIM`` on every service and on
the pages alike. Without a refresh token, the session lasts until the access token expires
(eight hours at most).

Refreshing the access token. When the token response also holds a refresh token (most providers
give one when ``offline_access`` is among ``APPOINTMENTS_WEB_OIDC_SCOPES``), the session keeps it,
sealed with AES-GCM under a key of the state folder (``APPOINTMENTS_WEB_SESSION_KEY``'s, as the
cookie's signature is), so the browser carrying the cookie cannot read it or use it elsewhere. A
request arriving within ``REFRESH_MARGIN`` of the access token's expiry, or after it, first asks
the provider for a new access token with it (authlib's refresh grant), checks the new token exactly
as signing in does (the services' rules, the provider's keys, the same subject and the same role;
an ID token in the answer is checked as at sign-in, without the nonce, and must agree), and
re-issues the session cookie with the new token (and the provider's new refresh token when it
rotates them; the CSRF token stays, so open forms still work). Requests that arrive together with
the same old cookie share one refresh. Whatever the refreshes, the session ends ``SESSION_LIMIT``
(12 hours) after signing in. A refresh the provider refuses (revoked, expired, another role) or
cannot answer ends the session: the person is sent to sign in again, told their session ended,
and the log says why (never a 500).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc import jwt as jose_jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.auth import InvalidToken, KeysUnavailable, Role, TokenRules, decode_token
from services.common.jwks import JwksKeys
from services.common.logging import get_logger

log = get_logger(__name__)

FETCH_TIMEOUT = httpx.Timeout(10.0)
NOT_ANSWERING = "The force's sign-in service is not answering just now. Try again in a few minutes."
# Asymmetric signatures only: an HS256 ID token would be signed with the client secret, which
# the pages hold, so anyone holding it could mint one; "none" is no signature at all.
ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
# The provider's keys are fetched again for an unknown key id at most this often.
REFETCH_SECONDS = 30.0
# An access token this close to its expiry (or past it) is renewed before the request goes on.
REFRESH_MARGIN = 60
# A refresh's answer serves the requests that come with the same old cookie for this long.
REFRESH_SHARED_SECONDS = 60.0
SESSION_ENDED = "Your session has ended. Sign in again to carry on."


class OidcSettings(BaseSettings):
    """The identity provider the pages sign people in with; each field APPOINTMENTS_WEB_OIDC_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_WEB_OIDC_", extra="ignore")

    issuer: str = ""
    # Default: the issuer's /.well-known/openid-configuration.
    discovery_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    scopes: str = "openid profile"
    role_claim: str = "roles"
    # "Herts.CallTaker=call-taker,Herts.Sergeant=supervisor"; contract role names map to themselves.
    role_map: str = ""
    name_claim: str = "name"
    # The pages' own callback as registered with the provider (.../sign-in/callback);
    # default: worked out from the request, which is wrong behind a proxy that rewrites the host.
    redirect_url: str = ""
    leeway_seconds: int = 60

    @property
    def enabled(self) -> bool:
        """Whether the pages sign people in through the provider."""
        return bool(self.issuer and self.client_id)

    def roles(self) -> dict[str, Role]:
        """The provider's role values to the contract's roles."""
        found: dict[str, Role] = {role.value: role for role in Role}
        for pair in filter(None, (p.strip() for p in self.role_map.split(","))):
            given, _, ours = pair.partition("=")
            found[given.strip()] = Role(ours.strip())
        return found


class SignInRefused(Exception):
    """Signing in through the provider did not work: ``words`` for the person, ``why`` for the log."""

    def __init__(self, words: str, why: str) -> None:
        super().__init__(why)
        self.words = words
        self.why = why


@dataclass(frozen=True)
class Pending:
    """What the pages remember between sending a person to the provider and their coming back."""

    state: str
    nonce: str
    code_verifier: str
    next_page: str
    expires_at: int


@dataclass(frozen=True)
class SignedIn:
    """Who the provider says signed in, their role, and the token the services accept from them."""

    subject: str
    role: Role
    name: str
    access_token: str
    expires_at: float
    # The provider's refresh token, when it gave one (kept only sealed in the session).
    refresh_token: str | None = None


@dataclass(frozen=True)
class Refreshed:
    """A renewed access token, until when, and the refresh token to use next time."""

    access_token: str
    expires_at: float
    refresh_token: str


class OidcSignIn:
    """The authorization code flow with PKCE against one provider, and checking what it returns."""

    def __init__(
        self,
        settings: OidcSettings,
        service_rules: TokenRules,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.service_rules = service_rules
        self._transport = transport
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._keys_at = float("-inf")
        self._service_keys: JwksKeys | None = None
        self._lock = asyncio.Lock()
        self._refreshes: dict[str, tuple[float, asyncio.Future[Refreshed]]] = {}

    def _client(self, redirect_uri: str | None = None) -> Any:
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret or None,
            scope=self.settings.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            transport=self._transport,
            timeout=FETCH_TIMEOUT,
        )

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (read once)."""
        if self._metadata is None:
            url = self.settings.discovery_url or (
                self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            )
            try:
                async with httpx.AsyncClient(transport=self._transport, timeout=FETCH_TIMEOUT) as client:
                    response = await client.get(url)
                    response.raise_for_status()
                    found = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SignInRefused(
                    NOT_ANSWERING,
                    f"discovery document not read: {type(exc).__name__}",
                ) from exc
            if not isinstance(found, dict) or found.get("issuer") != self.settings.issuer:
                raise SignInRefused(
                    "The force's sign-in service is not set up as these pages expect. Tell the service desk.",
                    "the discovery document names another issuer than APPOINTMENTS_WEB_OIDC_ISSUER",
                )
            self._metadata = found
        return self._metadata

    async def _key_set(self, force: bool = False) -> KeySet:
        async with self._lock:
            fresh = time.monotonic() - self._keys_at < REFETCH_SECONDS
            if self._keys is None or (force and not fresh):
                uri = (await self.metadata()).get("jwks_uri")
                try:
                    async with httpx.AsyncClient(transport=self._transport, timeout=FETCH_TIMEOUT) as client:
                        response = await client.get(str(uri))
                        response.raise_for_status()
                        self._keys = KeySet.import_key_set(response.json())
                except (httpx.HTTPError, ValueError, JoseError) as exc:
                    if self._keys is None:
                        raise SignInRefused(
                            NOT_ANSWERING,
                            f"provider keys not read: {type(exc).__name__}",
                        ) from exc
                self._keys_at = time.monotonic()
            return self._keys

    async def start(self, redirect_uri: str, next_page: str, now: float | None = None) -> tuple[str, Pending]:
        """Where to send the person (the provider's authorization endpoint), and what to remember."""
        endpoint = (await self.metadata())["authorization_endpoint"]
        pending = Pending(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
            next_page=next_page,
            expires_at=int((now or time.time()) + 600),
        )
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=pending.state, code_verifier=pending.code_verifier, nonce=pending.nonce
            )
        return str(url), pending

    async def sign_out_url(self, back_to: str) -> str | None:
        """The provider's end-session address (RP-initiated logout), coming back to the sign-in page
        (beside the registered callback when APPOINTMENTS_WEB_OIDC_REDIRECT_URL is set, else ``back_to``);
        None when the provider publishes none or cannot be read."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except SignInRefused:
            return None
        if not isinstance(endpoint, str) or not endpoint:
            return None
        query = {"client_id": self.settings.client_id,
                 "post_logout_redirect_uri": self._sign_in_page() or back_to}  # fmt: skip
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    def _sign_in_page(self) -> str | None:
        callback = self.settings.redirect_url
        return callback.removesuffix("/callback") if callback.endswith("/sign-in/callback") else None

    async def finish(self, code: str, pending: Pending, redirect_uri: str) -> SignedIn:
        """Exchange the code (with the PKCE verifier), check the ID token and the access token."""
        metadata = await self.metadata()
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                    redirect_uri=redirect_uri,
                )
        except Exception as exc:  # authlib raises its own OAuth errors and httpx's alike
            raise SignInRefused(
                "The force's sign-in service did not let these pages finish signing you in. Try again.",
                f"token request refused: {type(exc).__name__}",
            ) from exc
        id_token, access_token = token.get("id_token"), token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise SignInRefused(
                "The force's sign-in service did not say who you are. Try again.",
                "the token response has no ID token or no access token",
            )
        claims = await self._check_id_token(id_token, access_token, pending.nonce)
        role = self._role(claims)
        caller, expires = await self._check_access_token(access_token, str(metadata.get("jwks_uri")))
        if caller.role is not role:
            raise SignInRefused(
                "Your account's role for this service is not the same in both of the sign-in service's "
                "answers. Tell the service desk.",
                f"the ID token's role is {role.value} but the access token's is {caller.role.value}",
            )
        name = claims.get(self.settings.name_claim)
        refresh = token.get("refresh_token")
        return SignedIn(caller.subject, role, str(name) if name else caller.subject, access_token, expires,
                        refresh if isinstance(refresh, str) and refresh else None)  # fmt: skip

    async def refresh(self, refresh_token: str, subject: str, role: Role) -> Refreshed:
        """A new access token for the person signed in as ``subject`` in ``role``, checked as signing in
        checks one; SignInRefused when the provider refuses or cannot answer, or names another person
        or role. Requests with the same refresh token at once (or within a minute) share one answer:
        a provider that rotates refresh tokens would refuse the second use of the old one."""
        key = hashlib.sha256(f"{subject}\n{role.value}\n{refresh_token}".encode()).hexdigest()
        now = time.monotonic()
        for old in [k for k, (at, _) in self._refreshes.items() if now - at > REFRESH_SHARED_SECONDS]:
            del self._refreshes[old]
        found = self._refreshes.get(key)
        if found is None:
            found = (now, asyncio.ensure_future(self._refresh(refresh_token, subject, role)))
            self._refreshes[key] = found
        return await asyncio.shield(found[1])

    async def _refresh(self, refresh_token: str, subject: str, role: Role) -> Refreshed:
        metadata = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
        except Exception as exc:  # authlib's OAuthError (invalid_grant: revoked, expired) and httpx's alike
            raise SignInRefused(
                SESSION_ENDED, f"refresh refused: {type(exc).__name__}: {getattr(exc, 'error', '')}"
            ) from exc
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise SignInRefused(SESSION_ENDED, "the refresh answer has no access token")
        caller, expires = await self._check_access_token(access_token, str(metadata.get("jwks_uri")))
        if caller.subject != subject or caller.role is not role:
            raise SignInRefused(
                SESSION_ENDED,
                f"the refreshed access token names another person or role ({caller.role.value}, not "
                f"{role.value}; same subject: {caller.subject == subject})",
            )
        id_token = token.get("id_token")
        if isinstance(id_token, str) and id_token:
            claims = await self._check_id_token(id_token, access_token, None)
            if claims.get("sub") != subject or self._role(claims) is not role:
                raise SignInRefused(SESSION_ENDED, "the refreshed ID token names another person or role")
        rotated = token.get("refresh_token")  # a provider that rotates them sends the next one
        next_one = rotated if isinstance(rotated, str) and rotated else refresh_token
        return Refreshed(access_token, expires, next_one)

    async def _check_id_token(self, id_token: str, access_token: str, nonce: str | None) -> dict[str, Any]:
        metadata = await self.metadata()
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in ALLOWED_ALGORITHMS]
        try:
            try:
                decoded = jose_jwt.decode(id_token, await self._key_set(), algorithms=algorithms)
            except InvalidKeyIdError:
                decoded = jose_jwt.decode(id_token, await self._key_set(force=True), algorithms=algorithms)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "values": [self.settings.issuer]},
                    "aud": {"essential": True, "values": [self.settings.client_id]},
                },
                {"nonce": nonce, "client_id": self.settings.client_id, "access_token": access_token},
            )
            claims.validate(leeway=self.settings.leeway_seconds)
        except (JoseError, ValueError) as exc:
            raise SignInRefused(
                "The answer from the force's sign-in service could not be trusted, so you are not signed "
                "in. Try again; if it keeps happening, tell the service desk.",
                f"ID token refused: {type(exc).__name__}: {getattr(exc, 'error', '')}",
            ) from exc
        return dict(claims)

    def _role(self, claims: dict[str, Any]) -> Role:
        given = claims.get(self.settings.role_claim)
        values = given if isinstance(given, list) else [given] if isinstance(given, str) else []
        known = self.settings.roles()
        roles = {known[v] for v in values if isinstance(v, str) and v in known}
        if len(roles) != 1:
            what = "no role" if not roles else "more than one role"
            raise SignInRefused(
                f"Your account has {what} for Station Appointments. Ask the service desk to give it one.",
                f"the ID token's {self.settings.role_claim} claim maps to {len(roles)} contract roles",
            )
        return roles.pop()

    async def _check_access_token(self, access_token: str, jwks_uri: str) -> tuple[Any, float]:
        """The services' own check of the access token (their issuer, audience and role claim)."""
        if self._service_keys is None:
            self._service_keys = JwksKeys(jwks_uri, transport=self._transport)
        rules = self.service_rules
        try:
            key = await self._service_keys.key_for(access_token)
            caller, until = decode_token(access_token, key, rules)
        except KeysUnavailable as exc:
            raise SignInRefused(
                NOT_ANSWERING,
                "the provider's keys cannot be fetched to check the access token",
            ) from exc
        except InvalidToken as exc:
            raise SignInRefused(
                "You signed in with the force's account, but the appointment services would not accept "
                "the sign-in service's token for you, so the pages cannot work for you yet. Tell the "
                "service desk.",
                f"the provider's access token is not one the services accept ({exc}): the provider must "
                f"issue access tokens with iss={rules.issuer!r}, aud={rules.audience!r} and the role in the "
                f"{rules.role_claim!r} claim, signed with {'/'.join(rules.algorithms)}, or every service and "
                "the pages must set APPOINTMENTS_TOKEN_ISSUER, APPOINTMENTS_TOKEN_AUDIENCE, "
                f"APPOINTMENTS_TOKEN_ROLE_CLAIM and APPOINTMENTS_TOKEN_ALGORITHMS to the provider's, with "
                f"APPOINTMENTS_TOKEN_JWKS_URL={jwks_uri}",
            ) from exc
        return caller, until
