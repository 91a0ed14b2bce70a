"""Dead letters are sealed: a record put aside keeps its value only as ciphertext.

What lands in ``deadletter`` is a copy of something a consumer could not use, often a
control-room request holding a caller's name and phone in clear. The copy is sealed with
AES-256-GCM under the deployment's dead-letter key (production: from the environment;
locally: generated into the state folder), so only whoever holds that key, e.g. the audit
team's `deadletter reprocess`, can read it; the topic's retention is bounded as well.
The headers (the reason, the consumer, where it came from) stay readable.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Awaitable, Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.topics import DEADLETTER

SEALED_HEADER = "dlq_sealed"
SCHEME = "aes-256-gcm"
_NONCE = 12

Publish = Callable[[str, bytes | None, bytes, list[tuple[str, bytes]]], Awaitable[None]]


class DeadLetterSeal:
    """Seals and opens dead-letter values with one deployment key."""

    def __init__(self, secret: str) -> None:
        # Any length of secret in; exactly the 32 bytes AES-256 needs out.
        self._key = AESGCM(hashlib.sha256(secret.encode()).digest())
        self.key_id = base64.urlsafe_b64encode(
            hashlib.sha256(b"key-id:" + secret.encode()).digest()[:6]
        ).decode()

    def seal(self, value: bytes, source_topic: str) -> bytes:
        """The value as nonce + ciphertext, bound to the topic it came from."""
        nonce = os.urandom(_NONCE)
        return nonce + self._key.encrypt(nonce, value, source_topic.encode())

    def open(self, sealed: bytes, source_topic: str) -> bytes:
        """The value a dead letter was sealed from (raises InvalidTag for a wrong key or topic)."""
        return self._key.decrypt(sealed[:_NONCE], sealed[_NONCE:], source_topic.encode())

    def header(self) -> tuple[str, bytes]:
        """The header that says a value is sealed, and under which key."""
        return SEALED_HEADER, f"{SCHEME}:{self.key_id}".encode()


def sealing(publish: Publish, seal: DeadLetterSeal) -> Publish:
    """``publish``, with every record bound for ``deadletter`` sealed first (others untouched)."""

    async def send(topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        if topic == DEADLETTER:
            source = next((v.decode() for k, v in headers if k == "dlq_source_topic"), "")
            value = seal.seal(value, source)
            headers = [*headers, seal.header()]
        await publish(topic, key, value, headers)

    return send
