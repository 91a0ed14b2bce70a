"""A consumer's fetch applied record by record in one transaction (the consumer's batch mode).

For booking's events, whose every change is in this service's own database: a fetch commits
once instead of once per event (a burst of bookings became texts four times as fast). Replies
stay one record per transaction: a reply may call booking, which a rolled-back batch would
call again; receipts and the roster's events come a few at a time, and batching the
receipts of a thousand texts saved nothing measurable.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from schemas.envelope import Envelope
from services.common.consumer import Apply, ApplyBatch, Position
from services.common.logging import correlation_id


def in_order(apply: Apply) -> ApplyBatch:
    """Apply each record of a fetch in turn, each under its own correlation id, in the batch's transaction."""

    async def apply_batch(conn: asyncpg.Connection, batch: Sequence[tuple[Envelope, Position]]) -> None:
        for env, position in batch:
            token = correlation_id.set(env.correlation_id)
            try:
                await apply(conn, env, position)
            finally:
                correlation_id.reset(token)

    return apply_batch
