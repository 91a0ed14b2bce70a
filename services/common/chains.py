"""Tamper evidence: walk each stream's hash chain again and name the first event that breaks it.

Every stored event's hash is ``eventstore.chain_hash`` of the previous event's hash and its own
content. A walk over one stream, in version order, finds an edited event (its content no longer
hashes to its stored hash), a removed one (a version missing), and rows swapped or inserted
(a version out of place, or a ``prev_hash`` that is not its predecessor's hash). What the chain
alone cannot show, a tail cut off or re-chained by someone with database rights, is caught
against the heads a signed checkpoint holds (``signed``; see services.common.checkpoints).

The walk is pure: links in, breaks and heads out, so the rules are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from schemas.envelope import Envelope
from services.common.eventstore import chain_hash


@dataclass(frozen=True)
class StoredLink:
    """One stored event as the chain sees it: its place, its content, and the two hashes kept."""

    stream_id: str
    version: int
    position: int
    envelope: Envelope
    data_json: str
    prev_hash: bytes | None
    hash: bytes


@dataclass(frozen=True)
class Head:
    """Where a stream ends: its last version, that event's id and its hash."""

    version: int
    event_id: str
    hash: bytes


@dataclass(frozen=True)
class Break:
    """The first event of a stream that does not hold, and why (never the event's data)."""

    database: str
    stream_id: str
    version: int
    event_id: str | None
    why: str

    def describe(self) -> str:
        """One line naming the event: database, stream, version, id, and what is wrong."""
        named = f"event {self.event_id}" if self.event_id else "no event"
        return f"{self.database}: stream {self.stream_id} version {self.version} ({named}): {self.why}"


class ChainWalk:
    """Checks links fed in (stream, version) order; one break per stream, the first found."""

    def __init__(self, database: str, signed: Mapping[str, Head] | None = None) -> None:
        self.database = database
        self.signed: Mapping[str, Head] = signed or {}
        self.breaks: list[Break] = []
        self.heads: dict[str, Head] = {}
        self.checked = 0
        self._last: StoredLink | None = None
        self._broken = False

    def feed(self, links: Iterable[StoredLink]) -> None:
        """Check the next links (continuing the stream the last feed ended in)."""
        for link in links:
            self._one(link)

    def finish(self) -> list[Break]:
        """Close the last stream, compare every signed head with what is stored; the breaks."""
        self._close()
        for stream_id, head in self.signed.items():
            if stream_id not in self.heads and not any(b.stream_id == stream_id for b in self.breaks):
                self._break(
                    stream_id, head.version, head.event_id, "the whole stream is gone (tail truncated)"
                )
        self.breaks.sort(key=lambda b: (b.stream_id, b.version))
        return self.breaks

    def _one(self, link: StoredLink) -> None:
        self.checked += 1
        last = self._last
        if last is None or last.stream_id != link.stream_id:
            self._close()
            last = None
        self._last = link
        if self._broken:
            return
        expected = 1 if last is None else last.version + 1
        event_id = str(link.envelope.event_id)
        prev = None if last is None else last.hash
        if link.version != expected:
            what = "missing" if link.version > expected else "stored twice or out of place"
            self._fail(link, event_id, f"version {expected} is {what} (a row removed or moved)")
        elif last is not None and link.position <= last.position:
            self._fail(link, event_id, f"stored before version {last.version} (rows swapped)")
        elif link.prev_hash != prev:
            self._fail(
                link, event_id, "its prev_hash is not its predecessor's hash (rows swapped or removed)"
            )
        elif chain_hash(prev, link.envelope, link.version, link.data_json) != link.hash:
            self._fail(link, event_id, "its content does not hash to its stored hash (the event was edited)")
        else:
            self._against_checkpoint(link, event_id)

    def _against_checkpoint(self, link: StoredLink, event_id: str) -> None:
        signed = self.signed.get(link.stream_id)
        if signed is not None and signed.version == link.version and signed.hash != link.hash:
            self._fail(
                link, event_id,
                "its hash differs from the signed checkpoint's (the chain was re-written at or before it)",
            )  # fmt: skip

    def _close(self) -> None:
        last = self._last
        if last is None:
            return
        self.heads[last.stream_id] = Head(last.version, str(last.envelope.event_id), last.hash)
        signed = self.signed.get(last.stream_id)
        if signed is not None and not self._broken and last.version < signed.version:
            first_gone = last.version + 1
            self._break(
                last.stream_id, first_gone, signed.event_id if signed.version == first_gone else None,
                f"versions {last.version + 1} to {signed.version} are gone (tail truncated; the checkpoint"
                f" signed version {signed.version}, event {signed.event_id})",
            )  # fmt: skip
        self._last = None
        self._broken = False

    def _fail(self, link: StoredLink, event_id: str, why: str) -> None:
        self._broken = True
        self._break(link.stream_id, link.version, event_id, why)

    def _break(self, stream_id: str, version: int, event_id: str | None, why: str) -> None:
        self.breaks.append(Break(self.database, stream_id, version, event_id, why))
