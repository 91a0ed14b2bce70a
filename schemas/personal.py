"""Personal data as it appears inside events: sealed with the data subject's own key.

Crypto-shredding: every caller name, phone number, address and free-text note is
encrypted (AES-256-GCM) under a key that belongs to one data subject and lives
only in the key store's own database. Destroying that key makes every copy of the
value unreadable: in PostgreSQL, on Kafka, and in any replay.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Sealed(BaseModel):
    """One encrypted value: which subject's key, the nonce, and the ciphertext (base64url)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_id: str
    nonce: str
    ciphertext: str
