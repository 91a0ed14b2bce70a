"""Who read a caller's replies in clear (DPA 2018 s.62): ``RepliesRead``, before the words go out.

A call taker opening an appointment's messages reads the caller's own words, opened from their
seal at that moment. Each such opening is appended to the notifications' own event store, one
stream per London day (``access-log:{YYYY-MM-DD}``, hash-chained like every stored event, so
``appointments audit verify`` and the signed checkpoints cover it), and published on
``notifications.events`` through the outbox, where the projections' access log reads it beside
the officers' days opened. It names who (the token's subject and role), when, whose words (subject
ids), which appointment and through what operation; never the words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from schemas.base import DomainEvent
from schemas.notifications import RepliesRead
from services.common.auth import Caller
from services.common.london import local
from services.common.unit_of_work import Fold, Metadata, Unit, load_one, run_unit
from services.notifications.app.ports import Notifications

STREAM_PREFIX = "access-log:"
MESSAGES_CHANNEL = "GET /appointments/{appointment_id}/messages"


def _count(state: int, _: DomainEvent) -> int:
    return state + 1


# A day's openings: nothing is decided from them, so the state is only how many there were.
OPENINGS: Fold[int, DomainEvent] = Fold(lambda _: 0, _count, lambda e: e, tag="access-log")


def stream_of(accessed_at: datetime) -> str:
    """The access log's stream of the London day the replies were read on."""
    return f"{STREAM_PREFIX}{local(accessed_at).date().isoformat()}"


async def record_replies_read(
    n: Notifications,
    caller: Caller,
    appointment_id: str,
    subject_ids: Sequence[str],
    replies: int,
    now: datetime,
    correlation_id: str,
) -> RepliesRead:
    """Append (and commit) who read ``replies`` of the appointment's replies, whose they were, and when."""
    read = RepliesRead(
        appointment_id=appointment_id,
        subject_ids=tuple(sorted(set(subject_ids))),
        replies=replies,
        accessed_by=caller.subject,
        role=caller.role.value,
        channel=MESSAGES_CHANNEL,
        accessed_at=now,
    )
    meta = Metadata(correlation_id=correlation_id, actor=f"{caller.role.value}:{caller.subject}", now=now)

    async def work(unit: Unit[asyncpg.Connection]) -> None:
        day = await load_one(unit, OPENINGS, stream_of(now))
        unit.append(day, [read], meta)

    await run_unit(n.store, work)
    return read
