"""Which records an erasure deletes from the topics carrying details in clear: only what is taken."""

from __future__ import annotations

from aiokafka import TopicPartition
from hypothesis import given
from hypothesis import strategies as st

from cli.clear_topics import deletable, untaken

P0, P1, P2 = (TopicPartition("notifications.sms-outbound", p) for p in range(3))


def test_only_what_was_there_and_is_taken_is_deleted() -> None:
    ends = {P0: 10, P1: 5, P2: 7}
    starts = {P0: 0, P1: 5, P2: 2}
    # P0: taken past the erasure's start (records that came after stay); P1 empty; P2 half taken.
    taken = {0: 12, 1: 5, 2: 4}
    assert deletable(ends, starts, taken) == {P0: 10, P2: 4}
    assert untaken(ends, starts, taken) == {P2: (4, 7)}


def test_nothing_is_deleted_from_a_partition_its_reader_never_took_from() -> None:
    ends = {P0: 3, P1: 3}
    assert deletable(ends, {}, {1: 3}) == {P1: 3}
    assert untaken(ends, {}, {1: 3}) == {P0: (0, 3)}


def test_a_partition_already_deleted_past_the_reader_is_left_alone() -> None:
    assert deletable({P0: 9}, {P0: 9}, {0: 6}) == {}
    assert untaken({P0: 9}, {P0: 9}, {0: 6}) == {}


offsets = st.integers(min_value=0, max_value=1_000)


@given(end=offsets, start=offsets, taken=st.one_of(st.none(), offsets))
def test_deleted_and_untaken_never_overlap_and_never_pass_the_end_or_the_reader(
    end: int, start: int, taken: int | None
) -> None:
    start = min(start, end)
    reader = {} if taken is None else {0: taken}
    before = deletable({P0: end}, {P0: start}, reader).get(P0)
    left = untaken({P0: end}, {P0: start}, reader).get(P0)
    if before is not None:
        assert start < before <= end and before <= (taken or 0)
    if left is not None:
        first, last = left
        assert last == end and first >= (before or start) and first < end
    # Every record that was there is either deleted, already gone, or untaken.
    covered = (before or start) - start + (left[1] - left[0] if left else 0)
    assert covered == end - start
