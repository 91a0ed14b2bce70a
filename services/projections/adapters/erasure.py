"""Erasing a data subject from the projections: their sealed values leave the recorded history.

The projections keep personal data in one place only: ``event_history.data``, each event as
received, where a caller's name, phone, address and free texts are ``Sealed`` under the
caller's key (the diary rows hold none). Destroying the key already makes those unreadable;
erasure also removes the ciphertext itself, so no copy kept here outlives the person's
request. A sealed value keeps its shape (subject id, empty nonce and ciphertext), so the
history and the diary as it stood still read every event; the subject id, a pseudonym that
opens nothing once its key is gone, stays and says whose data was erased.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

_SEALED_KEYS = frozenset({"subject_id", "nonce", "ciphertext"})

_HOLDING = """
select event_id, data::text as data from event_history
where jsonb_path_exists(
    data, '$.** ? (@.subject_id == $s && @.ciphertext != "")', jsonb_build_object('s', $1::text)
)
for update
"""


def blanked(value: Any, subject_id: str) -> Any:
    """``value`` with every value sealed for ``subject_id`` emptied (others untouched)."""
    if isinstance(value, dict):
        if value.keys() == _SEALED_KEYS and value["subject_id"] == subject_id:
            return {"subject_id": subject_id, "nonce": "", "ciphertext": ""}
        return {k: blanked(v, subject_id) for k, v in value.items()}
    if isinstance(value, list):
        return [blanked(v, subject_id) for v in value]
    return value


async def erase_subject(conn: asyncpg.Connection, subject_id: str) -> int:
    """Empty every value sealed for the subject in the recorded history; how many events held one."""
    changed = 0
    async with conn.transaction():
        for row in await conn.fetch(_HOLDING, subject_id):
            data = json.loads(row["data"])
            emptied = blanked(data, subject_id)
            if emptied != data:
                await conn.execute(
                    "update event_history set data = $2::jsonb where event_id = $1",
                    row["event_id"],
                    json.dumps(emptied),
                )
                changed += 1
    return changed


async def erase_subjects_in(conn: asyncpg.Connection, subject_ids: Sequence[str], table: str) -> int:
    """Empty every value sealed for any of ``subject_ids`` in ``table`` (a history's copy, e.g. one
    a replay rebuilt from the topics, which still carry the ciphertext); how many events held one.

    One pass, for the subjects erased so far: rows are picked by the ids in their text, then
    blanked exactly, subject by subject.
    """
    if not subject_ids:
        return 0
    rows = await conn.fetch(
        f"select event_id, data::text as data from {table} where data::text like any($1::text[]) for update",
        [f'%"{s}"%' for s in subject_ids],
    )
    changed = 0
    for row in rows:
        data = json.loads(row["data"])
        emptied = data
        for subject_id in subject_ids:
            emptied = blanked(emptied, subject_id)
        if emptied != data:
            await conn.execute(
                f"update {table} set data = $2::jsonb where event_id = $1",
                row["event_id"],
                json.dumps(emptied),
            )
            changed += 1
    return changed


async def erased_subjects(keystore: asyncpg.Connection) -> list[str]:
    """The subjects whose key has been destroyed, from the key store (as its owner)."""
    return [
        r["subject_id"] for r in await keystore.fetch("select subject_id from subject_keys where key is null")
    ]
