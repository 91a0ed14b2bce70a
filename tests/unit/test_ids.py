"""Event ids are RFC 9562 version-7 UUIDs, ordered by the millisecond they were made in."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from services.common.ids import time_ordered_id


def test_an_id_is_a_version_7_rfc_uuid() -> None:
    made = time_ordered_id()
    assert made.version == 7 and made.variant == "specified in RFC 4122"


def test_its_first_48_bits_are_the_unix_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    made = time_ordered_id()
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ids_made_in_later_milliseconds_sort_later() -> None:
    first = time_ordered_id()
    time.sleep(0.002)
    assert time_ordered_id() > first


@given(st.integers(min_value=2, max_value=50))
def test_ids_are_unique(n: int) -> None:
    assert len({time_ordered_id() for _ in range(n)}) == n
