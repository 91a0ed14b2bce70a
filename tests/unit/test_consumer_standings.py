"""Where a consumer stands and how far behind: the figures /metrics shows, worked out without servers."""

from __future__ import annotations

from services.common.metrics import Standing, Watched, standings

TOPIC = "booking.events"
WATCHED = [Watched("projections-booking", "projections-booking_t1", TOPIC)]


def test_lag_is_the_end_less_the_stored_position_on_every_partition_of_the_topic() -> None:
    ends = {(TOPIC, 0): 10, (TOPIC, 1): 4, (TOPIC, 2): 0, ("roster.events", 0): 99}
    stored = {("projections-booking", TOPIC, 0): 7, ("projections-booking", TOPIC, 1): 4}
    assert standings(WATCHED, stored, {}, {}, ends) == [
        Standing("projections-booking", TOPIC, 0, 7, 10, 3),
        Standing("projections-booking", TOPIC, 1, 4, 4, 0),
        Standing("projections-booking", TOPIC, 2, None, 0, 0),  # nothing there, nothing applied
    ]


def test_a_partition_never_applied_lags_by_all_it_keeps() -> None:
    found = standings(WATCHED, {}, {}, {(TOPIC, 0): 5}, {(TOPIC, 0): 12})
    assert [(s.position, s.lag) for s in found] == [
        (None, 7)
    ]  # records gone with retention are behind no one


def test_records_let_pass_and_committed_by_the_group_are_not_lag() -> None:
    # Applied up to 3 (stored), then records of types it does not act on, committed to 9 by its group.
    stored = {("projections-booking", TOPIC, 0): 3}
    committed = {("projections-booking_t1", TOPIC, 0): 9, ("another-group", TOPIC, 0): 12}
    (found,) = standings(WATCHED, stored, committed, {}, {(TOPIC, 0): 12})
    assert (found.position, found.lag) == (3, 3)  # the position shown stays the stored one


def test_lag_is_never_negative() -> None:
    (found,) = standings(WATCHED, {("projections-booking", TOPIC, 0): 12}, {}, {}, {(TOPIC, 0): 10})
    assert found.lag == 0
