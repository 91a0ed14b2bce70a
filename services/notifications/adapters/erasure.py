"""Erasing a data subject from the notifications' own tables: their sealed copies and number hash go.

Destroying the subject's key (booking's key store) already makes every sealed value unreadable.
The notifications keep copies of their own too, and erasure removes those, so none outlives the
person's request: the caller's sealed number in each appointment's state and each text waiting or
sent (``phone``), the keyed hash of their number beside their appointments (``number_hash``, which
matched their replies to them), and the words of their replies (``replies.body``, emptied to the
shape of a sealed value: subject id, empty nonce and ciphertext). A text still to go is marked
``erased`` now rather than at its time, and the appointment's reminders are dropped. What remains
names the person by subject id only, a pseudonym that opens nothing once the key is gone: the
appointments, the texts' templates and states, the replies' intents. The service's events are
never changed (their chain would break): they hold the same values sealed, and the replies'
number hashes, as booking's events do. Run as the database owner, in one transaction, by
``appointments erase``; running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Erased:
    """How many of the notifications' rows held the subject's data and were emptied."""

    appointments: int = 0
    texts: int = 0
    replies: int = 0
    reminders: int = 0

    @property
    def total(self) -> int:
        """Every row changed or removed."""
        return self.appointments + self.texts + self.replies + self.reminders


_APPOINTMENTS = """
update appointments set state = jsonb_set(state, '{phone}', 'null'), number_hash = null, updated_at = now()
where state ->> 'subject_id' = $1 and (state -> 'phone' <> 'null'::jsonb or number_hash is not null)
returning appointment_id
"""
_REMINDERS = """
delete from reminders where appointment_id in
    (select appointment_id from appointments where state ->> 'subject_id' = $1)
"""
_TEXTS = """
update texts_due set phone = null,
    sent_at = coalesce(sent_at, now()),
    outcome = coalesce(outcome, 'erased'),
    status = case when sent_at is null then 'erased' else status end
where subject_id = $1 and phone is not null
"""
_REPLIES = """
update replies set body = jsonb_build_object('subject_id', $1::text, 'nonce', '', 'ciphertext', '')
where body ->> 'subject_id' = $1 and body ->> 'ciphertext' <> ''
"""


def _count(status: str) -> int:
    """The row count of an UPDATE or DELETE command status ("UPDATE 3")."""
    return int(status.rsplit(" ", 1)[-1])


async def erase_subject(conn: asyncpg.Connection, subject_id: str) -> Erased:
    """Empty every copy of the subject's data the notifications keep; how many rows held some."""
    async with conn.transaction():
        appointments = len(await conn.fetch(_APPOINTMENTS, subject_id))
        reminders = _count(await conn.execute(_REMINDERS, subject_id))
        texts = _count(await conn.execute(_TEXTS, subject_id))
        replies = _count(await conn.execute(_REPLIES, subject_id))
    return Erased(appointments, texts, replies, reminders)
