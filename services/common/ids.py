"""Time-ordered ids for events (UUID version 7, RFC 9562).

An event id is indexed in the store (unique), in the outbox (its foreign key) and in
every consumer's applied-events table. Random version-4 ids land on random pages of
those indexes; with a large store that is a page read and write per insert. Version 7
ids begin with the millisecond, so new ids go to the right-hand edge of each index.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62


def time_ordered_id() -> uuid.UUID:
    """A new UUIDv7: 48 bits of Unix milliseconds, the version, the variant, 74 random bits."""
    millis = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")
    high = (random >> 62) & 0xFFF
    low = random & ((1 << 62) - 1)
    return uuid.UUID(int=((millis & ((1 << 48) - 1)) << 80) | _VERSION | (high << 64) | _VARIANT | low)
