"""Bearer tokens: JWTs with the contract's claims, refused for every way they can be wrong."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import ECAlgorithm
from pydantic import ValidationError

from services.common import http
from services.common.auth import (
    Caller,
    InvalidToken,
    KeysUnavailable,
    Role,
    TokenRules,
    TokenVerifier,
    decode_token,
    issue_token,
)
from services.common.config import Settings
from services.common.jwks import JwksKeys
from services.common.roles import roles
from services.common.token_keys import (
    PUBLIC_KEY,
    SIGNING_KEY,
    ensure_local_keys,
    local_issuer,
    read_local_token,
    verifier_of,
)

RULES = TokenRules("https://id.herts.example", "station-appointments", ("EdDSA",))
HOUR = timedelta(hours=1)
KEY = Ed25519PrivateKey.generate()


def _token(rules: TokenRules = RULES, key: Any = KEY, **kwargs: Any) -> str:
    return issue_token(Role.CALL_TAKER, "4021", key, rules, kwargs.pop("ttl", HOUR), **kwargs)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _refusal(token: str, rules: TokenRules = RULES) -> str:
    with pytest.raises(InvalidToken) as refused:
        decode_token(token, KEY.public_key(), rules)
    return str(refused.value)


def test_a_token_carries_the_contracts_claims_and_reads_back_as_its_caller() -> None:
    now = datetime.now(UTC)
    token = _token(now=now)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == RULES.issuer and claims["aud"] == RULES.audience
    assert (claims["sub"], claims["role"]) == ("4021", "call-taker")
    assert claims["iat"] == claims["nbf"] == int(now.timestamp())
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    caller, until = decode_token(token, KEY.public_key(), RULES)
    assert caller == Caller(Role.CALL_TAKER, "4021")
    assert until == claims["exp"] + RULES.leeway_seconds


def test_expired_not_yet_valid_other_audience_other_issuer_and_forged_tokens_are_refused() -> None:
    assert _refusal(_token(now=datetime.now(UTC) - 2 * HOUR)) == "the token has expired"
    assert _refusal(_token(now=datetime.now(UTC) + HOUR)) == "the token is not valid yet"
    elsewhere = TokenRules(RULES.issuer, "another-system", RULES.algorithms)
    assert _refusal(_token(elsewhere)) == "the token is not meant for this system (audience)"
    impostor = TokenRules("https://evil.example", RULES.audience, RULES.algorithms)
    assert _refusal(_token(impostor)) == "the token was not issued by the trusted issuer"
    forged = _token(key=Ed25519PrivateKey.generate())
    assert _refusal(forged) == "the token's signature does not verify"
    assert _refusal("not.a.jwt") == "the token is not a well-formed JWT"


def test_only_allowlisted_algorithms_are_accepted() -> None:
    unsigned = jwt.encode(jwt.decode(_token(), options={"verify_signature": False}), "", "none")
    assert _refusal(unsigned) == "the token's signature algorithm is not allowed"
    # The classic confusion: an HMAC token keyed with the bytes of the public key.
    public_pem = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(jwt.decode(_token(), options={"verify_signature": False})).encode())
    mac = _b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert _refusal(f"{header}.{payload}.{mac}") == "the token's signature algorithm is not allowed"
    es256 = TokenRules(RULES.issuer, RULES.audience, ("ES256",))
    assert _refusal(_token(), es256) == "the token's signature algorithm is not allowed"
    with pytest.raises(ValidationError, match="token algorithms must be among"):
        Settings(token_algorithms=["HS256"])
    with pytest.raises(ValidationError, match="token algorithms must be among"):
        Settings(token_algorithms=["none"])


def test_a_token_without_exp_or_without_a_contract_role_is_refused() -> None:
    claims = {"iss": RULES.issuer, "aud": RULES.audience, "sub": "4021", "iat": 1, "role": "officer"}
    assert _refusal(jwt.encode(claims, KEY, "EdDSA")) == "the token has no exp claim"
    now = int(datetime.now(UTC).timestamp())
    base = {**claims, "iat": now, "exp": now + 60}
    for role in ("chief-constable", ["officer", "admin"], None):
        assert "names no single role" in _refusal(jwt.encode({**base, "role": role}, KEY, "EdDSA"))
    listed = jwt.encode({**base, "role": ["officer"]}, KEY, "EdDSA")  # as providers send "roles"
    assert decode_token(listed, KEY.public_key(), RULES)[0].role is Role.OFFICER


class _CountingKey:
    """One public key, counting how often a signature had to be checked."""

    def __init__(self, key: Any) -> None:
        self.key, self.looked_up = key, 0

    async def key_for(self, token: str) -> Any:
        self.looked_up += 1
        return self.key


async def test_a_verified_token_is_remembered_until_it_expires_and_then_refused() -> None:
    clock = [datetime.now(UTC).timestamp()]
    keys = _CountingKey(KEY.public_key())
    verifier = TokenVerifier(keys, RULES, clock=lambda: clock[0])
    token = _token()
    for _ in range(3):
        assert (await verifier.caller(token)).subject == "4021"
    assert keys.looked_up == 1
    clock[0] += 3600 + RULES.leeway_seconds
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.caller(token)


async def test_refused_tokens_are_never_remembered_and_the_memory_is_bounded() -> None:
    keys = _CountingKey(KEY.public_key())
    verifier = TokenVerifier(keys, RULES, cache_size=2)
    forged = _token(key=Ed25519PrivateKey.generate())
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.caller(forged)
    assert keys.looked_up == 2
    tokens = [_token() for _ in range(3)]
    for token in tokens:
        await verifier.caller(token)
    await verifier.caller(tokens[0])  # the oldest was let go, so it is checked again
    assert keys.looked_up == 2 + 3 + 1


def test_the_local_key_pair_is_made_once_with_a_private_signing_key(tmp_path: Path) -> None:
    folder = tmp_path / "tokens"
    with ThreadPoolExecutor(8) as pool:  # services starting together race to make it
        list(pool.map(lambda _: ensure_local_keys(folder), range(8)))
    assert sorted(p.name for p in folder.iterdir()) == [PUBLIC_KEY, SIGNING_KEY]
    assert stat.S_IMODE((folder / SIGNING_KEY).stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name != "tokens"]  # no draft left behind
    public = (folder / PUBLIC_KEY).read_bytes()
    ensure_local_keys(folder)
    assert (folder / PUBLIC_KEY).read_bytes() == public


async def test_a_local_token_is_accepted_by_the_services_verifier_of_the_same_folder(tmp_path: Path) -> None:
    cfg = Settings(state_dir=tmp_path)
    token = local_issuer(cfg).token(Role.AUDITOR, "A123")
    assert await verifier_of(cfg).caller(token) == Caller(Role.AUDITOR, "A123")
    assert read_local_token(token, cfg) == Caller(Role.AUDITOR, "A123")
    other = Settings(state_dir=tmp_path / "another-stack")
    with pytest.raises(InvalidToken, match="signature does not verify"):
        await verifier_of(other).caller(token)


def test_production_signs_nothing_locally_and_needs_the_providers_keys(tmp_path: Path) -> None:
    cfg = Settings(state_dir=tmp_path, environment="production")
    with pytest.raises(RuntimeError, match="identity provider"):
        local_issuer(cfg)
    with pytest.raises(RuntimeError, match="APPOINTMENTS_TOKEN_JWKS_URL"):
        verifier_of(cfg)
    assert isinstance(
        verifier_of(cfg.model_copy(update={"token_jwks_url": "https://id/jwks"})).keys, JwksKeys
    )


class _Provider:
    """An identity provider's JWKS endpoint: its ES256 keys, counting fetches, or down."""

    def __init__(self) -> None:
        self.keys = {"k1": generate_private_key(SECP256R1())}
        self.fetches = 0
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.down:
            return httpx.Response(503)
        published = [
            {**json.loads(ECAlgorithm.to_jwk(k.public_key())), "kid": kid, "use": "sig"}
            for kid, k in self.keys.items()
        ]
        return httpx.Response(200, json={"keys": published})

    def token(self, kid: str, rules: TokenRules) -> str:
        return issue_token(Role.GATEWAY, "notify", self.keys[kid], rules, HOUR, key_id=kid)


@pytest.fixture
def provider() -> Iterator[_Provider]:
    yield _Provider()


async def test_production_checks_tokens_against_the_providers_published_keys(provider: _Provider) -> None:
    rules = TokenRules(RULES.issuer, RULES.audience, ("ES256",))
    clock = [0.0]
    keys = JwksKeys("https://id.test/jwks", transport=httpx.MockTransport(provider), clock=lambda: clock[0])
    verifier = TokenVerifier(keys, rules)
    assert (await verifier.caller(provider.token("k1", rules))).role is Role.GATEWAY
    assert provider.fetches == 1
    # A new key (rotation) is fetched when a token first names it.
    provider.keys["k2"] = generate_private_key(SECP256R1())
    clock[0] += 30
    assert (await verifier.caller(provider.token("k2", rules))).subject == "notify"
    assert provider.fetches == 2
    # Made-up key ids do not make a request each: at most one per min_refetch_seconds.
    clock[0] += 30
    for n in range(5):
        forged = issue_token(Role.ADMIN, "x", generate_private_key(SECP256R1()), rules, HOUR, key_id=f"z{n}")
        with pytest.raises(InvalidToken, match="not among the issuer's published keys"):
            await verifier.caller(forged)
    assert provider.fetches == 3
    # A provider that is down: the keys held stay in use; a key never seen is a 503, not a 401.
    provider.down, clock[0] = True, clock[0] + 3600
    assert (await keys.key_for(provider.token("k1", rules))) is not None
    provider.keys["k3"] = generate_private_key(SECP256R1())
    clock[0] += 60
    with pytest.raises(KeysUnavailable):
        await keys.key_for(provider.token("k3", rules))


async def test_jwks_fetches_by_many_requests_at_once_are_one(provider: _Provider) -> None:
    rules = TokenRules(RULES.issuer, RULES.audience, ("ES256",))
    verifier = TokenVerifier(JwksKeys("https://id.test/jwks", transport=httpx.MockTransport(provider)), rules)
    tokens = [provider.token("k1", rules) for _ in range(10)]
    callers = await asyncio.gather(*(verifier.caller(t) for t in tokens))
    assert {c.role for c in callers} == {Role.GATEWAY}
    assert provider.fetches == 1


class _ProviderDown:
    async def key_for(self, token: str) -> Any:
        raise KeysUnavailable("the identity provider's keys cannot be fetched just now")


async def test_keys_that_cannot_be_fetched_are_a_503_with_a_retry_hint_not_a_401(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http, "token_verifier", lambda: TokenVerifier(_ProviderDown(), RULES))
    app = http.create_http_app("test", {}, roles={"GET /echo": roles(Role.CALL_TAKER)})

    @app.get("/echo")
    async def echo(caller: http.Authorized) -> str:
        return caller.actor

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.get("/echo", headers={"authorization": f"Bearer {_token()}"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "2"
