"""The bench's phase machinery without servers: the big store's rows, the options, a failing phase."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bench import preload
from bench.figures import Row
from bench.forms import booking_form, slot_booked
from bench.options import PHASES, parse_args
from bench.phases import Outcome
from bench.plan import make_plan
from bench.workload import plan_slots
from services.common.eventstore import Outgoing

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


async def _items(count: int) -> list[Outgoing]:
    return [
        await slot_booked(slot, booking_form(slot, n, "run1"), "secret", NOW)
        for n, slot in enumerate(plan_slots(count, NOW))
    ]


def test_history_streams_are_past_days_of_every_station_in_turn() -> None:
    streams = list(preload.history_streams(["a", "b", "c"], date(2026, 3, 2), 7))
    assert streams == [
        "station:a:2026-03-01", "station:b:2026-03-01", "station:c:2026-03-01",
        "station:a:2026-02-28", "station:b:2026-02-28", "station:c:2026-02-28",
        "station:a:2026-02-27",
    ]  # fmt: skip


async def test_preloaded_rows_count_versions_from_one_in_each_stream_with_published_outbox_rows() -> None:
    items = await _items(5)
    per = preload.EVENTS_PER_STREAM
    streams = list(preload.history_streams(["a", "b"], date(2026, 3, 2), 3))
    rows = list(preload._rows(streams, 2 * per + 3, preload._templates(items)))
    assert len(rows) == 2 * per + 3
    events = [e for e, _ in rows]
    versions: dict[str, list[int]] = {}
    for event in events:
        versions.setdefault(event[0], []).append(event[1])
    full = list(range(1, per + 1))
    assert versions == {streams[0]: full, streams[1]: full, streams[2]: [1, 2, 3]}
    assert len({e[2] for e in events}) == len(events)  # event ids
    for event, outbox in rows:
        column = dict(zip(preload.EVENT_COLUMNS, event, strict=True))
        published = dict(zip(preload.OUTBOX_COLUMNS, outbox, strict=True))
        assert published["event_id"] == column["event_id"]
        assert published["key"] == json.loads(column["data"])["appointment_id"]
        assert published["published_at"] is not None  # the relay has nothing to do
        assert column["event_type"] == "SlotBooked"
    # Each event names its own appointment, and chains its stream's previous hash.
    assert len({json.loads(e[5])["appointment_id"] for e in events}) == len(events)
    assert events[1][10] == events[0][11] and events[0][10] is None


def test_phases_default_to_all_and_a_subset_can_be_asked_for() -> None:
    assert parse_args([]).phases == frozenset(PHASES)
    options = parse_args(["--phases", "path,free-slots", "--store-events", "5000"])
    assert options.phases == {"path", "free-slots"}
    assert options.runs("path") and not options.runs("big-store")
    assert options.store_events == 5000
    assert parse_args(["--count", "300"]).warmup == 30


@pytest.mark.parametrize("phases", ["path,nonsense", ""])
def test_an_unknown_or_empty_phase_list_is_refused(phases: str) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--phases", phases])


async def test_a_failing_phase_is_noted_and_the_next_still_runs() -> None:
    outcome = Outcome()

    async def broken() -> Outcome:
        raise RuntimeError("the service exited")

    async def fine() -> Outcome:
        return Outcome([Row("x", "x", 1, 1.0, None)], {"found": 1})

    await outcome.attempt("path", broken)
    await outcome.attempt("free-slots", fine)
    assert [r.key for r in outcome.rows] == ["x"]
    assert outcome.parameters["failed_phases"] == {"path": "RuntimeError: the service exited"}
    assert outcome.parameters["found"] == 1
    assert set(outcome.parameters["phase_seconds"]) == {"path", "free-slots"}


async def test_nested_phases_add_their_failures_and_times_to_the_outer_ones() -> None:
    outer, inner = Outcome(), Outcome()

    async def broken() -> Outcome:
        raise RuntimeError("free slots answered 500")

    async def nested() -> Outcome:
        await inner.attempt("free-slots", broken)
        return inner

    async def failing_too() -> Outcome:
        raise RuntimeError("the store would not load")

    await outer.attempt("booking", nested)
    await outer.attempt("big-store", failing_too)
    assert set(outer.parameters["failed_phases"]) == {"free-slots", "big-store"}
    assert set(outer.parameters["phase_seconds"]) == {"free-slots", "booking", "big-store"}


async def test_the_plan_leaves_every_other_slot_of_the_free_slots_days_free() -> None:
    plan = await make_plan("run1", "secret", NOW, warmup=5, count=200)
    assert (len(plan.warm), len(plan.measured), len(plan.events)) == (5, 200, 205)
    booked = {(s.station_id, s.starts_at) for s in plan.slots}
    assert len(booked) == 205
    window = plan.free_slot_days
    station, first = plan.free_slot_station
    assert (station, first) == (plan.slots[0].station_id, plan.slots[0].day)
    assert not booked & {(s.station_id, s.starts_at) for s in window[1::2]}
    assert booked & {(s.station_id, s.starts_at) for s in window[0::2]}
    # Every day asked about has its officer on duty, booked or not.
    assert {s.stream_id for s in window} <= set(plan.roster)
