"""The chain walk names the first event of a stream that does not hold, for each way of tampering."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from schemas.envelope import Envelope
from services.common.chains import ChainWalk, Head, StoredLink
from services.common.eventstore import canonical_json, chain_hash


def chain(stream: str, count: int, first_position: int = 1) -> list[StoredLink]:
    """A well-made stream of ``count`` events, hashed as the event store hashes them."""
    links, prev = [], None
    for version in range(1, count + 1):
        data = {"appointment_id": f"a-{version}", "n": version}
        env = Envelope(
            event_id=uuid.uuid4(), event_type="SlotBooked", schema_version=1, source="urn:test",
            subject=stream, time=datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(minutes=version),
            correlation_id="c", causation_id=None, actor="call-taker:4021", data=data,
        )  # fmt: skip
        digest = chain_hash(prev, env, version)
        links.append(
            StoredLink(stream, version, first_position + version, env, canonical_json(data), prev, digest)
        )
        prev = digest
    return links


def walked(links: list[StoredLink], signed: dict[str, Head] | None = None) -> ChainWalk:
    walk = ChainWalk("booking", signed)
    walk.feed(sorted(links, key=lambda link: (link.stream_id, link.version)))
    walk.finish()
    return walk


def heads(links: list[StoredLink]) -> dict[str, Head]:
    return {k: v for k, v in walked(links).heads.items()}


def test_well_made_chains_hold_and_every_event_is_counted() -> None:
    walk = walked(chain("station:a:2026-12-01", 5) + chain("station:b:2026-12-01", 3, 100))
    assert walk.breaks == []
    assert walk.checked == 8
    assert walk.heads["station:a:2026-12-01"].version == 5


def test_an_edited_event_is_named() -> None:
    links = chain("s", 5)
    edited = links[2].envelope.model_copy(update={"data": {"appointment_id": "a-3", "n": 4}})
    links[2] = dataclasses.replace(links[2], envelope=edited, data_json=canonical_json(edited.data))
    (found,) = walked(links).breaks
    assert (found.stream_id, found.version, found.event_id) == ("s", 3, str(edited.event_id))
    assert "edited" in found.why


def test_a_flipped_byte_in_a_stored_hash_is_named() -> None:
    links = chain("s", 4)
    flipped = bytes([links[1].hash[0] ^ 1]) + links[1].hash[1:]
    links[1] = dataclasses.replace(links[1], hash=flipped)
    (found,) = walked(links).breaks
    assert found.version == 2


def test_a_removed_event_is_a_version_gap_named_by_the_next_event() -> None:
    links = chain("s", 5)
    after = links[3]
    del links[2]
    (found,) = walked(links).breaks
    assert (found.version, found.event_id) == (4, str(after.envelope.event_id))
    assert "version 3 is missing" in found.why


def test_a_removed_first_event_is_named() -> None:
    (found,) = walked(chain("s", 3)[1:]).breaks
    assert found.version == 2 and "version 1 is missing" in found.why


def test_two_swapped_events_are_named_by_the_first_out_of_place() -> None:
    links = chain("s", 5)
    second, third = links[1], links[2]
    # Their versions traded: each row now claims the other's place in the stream.
    links[1] = dataclasses.replace(third, version=2)
    links[2] = dataclasses.replace(second, version=3)
    (found,) = walked(links).breaks
    assert (found.version, found.event_id) == (2, str(third.envelope.event_id))


def test_rows_stored_out_of_order_are_named() -> None:
    links = chain("s", 3)
    links[2] = dataclasses.replace(links[2], position=links[0].position)
    (found,) = walked(links).breaks
    assert found.version == 3 and "swapped" in found.why


def test_only_the_first_break_of_a_stream_is_reported_but_every_stream_is_walked() -> None:
    broken = chain("a", 5)
    del broken[1]
    del broken[2]
    other = chain("b", 4, 50)
    other[3] = dataclasses.replace(other[3], hash=b"\0" * 32)
    walk = walked(broken + other + chain("c", 2, 90))
    assert [(b.stream_id, b.version) for b in walk.breaks] == [("a", 3), ("b", 4)]


def test_a_truncated_tail_is_caught_against_the_signed_heads() -> None:
    links = chain("s", 5)
    signed = heads(links)
    walk = walked(links[:3], signed)
    (found,) = walk.breaks
    assert found.version == 4 and "tail truncated" in found.why
    assert signed["s"].event_id in found.why


def test_a_stream_gone_whole_is_caught_against_the_signed_heads() -> None:
    signed = heads(chain("gone", 2) + chain("kept", 2, 10))
    kept = [link for link in chain("kept", 2, 10)]
    signed["kept"] = heads(kept)["kept"]
    (found,) = walked(kept, signed).breaks
    assert (found.stream_id, found.version) == ("gone", 2) and "gone" in found.why


def test_a_re_chained_tail_holds_by_itself_but_not_against_the_signed_heads() -> None:
    links = chain("s", 5)
    signed = heads(links)
    # Someone with database rights edits version 4 and hashes it and version 5 again.
    edited = links[3].envelope.model_copy(update={"data": {"appointment_id": "a-4", "n": 40}})
    h4 = chain_hash(links[2].hash, edited, 4)
    h5 = chain_hash(h4, links[4].envelope, 5)
    links[3] = dataclasses.replace(links[3], envelope=edited, data_json=canonical_json(edited.data), hash=h4)
    links[4] = dataclasses.replace(links[4], prev_hash=h4, hash=h5)
    assert walked(links).breaks == []
    (found,) = walked(links, signed).breaks
    assert (found.version, found.event_id) == (5, str(links[4].envelope.event_id))
    assert "re-written" in found.why


def test_events_appended_after_the_checkpoint_are_no_break() -> None:
    links = chain("s", 6)
    signed = heads(links[:4])
    assert walked(links, signed).breaks == []
