"""Deterministic ids, so a request or a seed repeated names the same officer, duty or withdrawal."""

from __future__ import annotations

import uuid

# Fixed for ever: changing it would give every seeded officer a new id.
ROSTER_NAMESPACE = uuid.UUID("6f1c6a52-2d0b-5c1e-9a57-3e8d4b1f0c21")


def officer_id_for(collar_number: str) -> str:
    """The officer id the roster gives a collar number when the client names none."""
    return str(uuid.uuid5(ROSTER_NAMESPACE, f"officer:{collar_number}"))


def roster_id(*parts: str) -> str:
    """A stable id made from its parts (e.g. a collar number, a day and a duty)."""
    return str(uuid.uuid5(ROSTER_NAMESPACE, ":".join(parts)))
