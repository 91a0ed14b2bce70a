"""The benchmark's pure parts: percentiles, ratios, the tables, targets, the JSON, /proc, slot plans."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from rich.console import Console

from bench import cpu, proctree
from bench.figures import (
    BIG_STORE_END_TO_END,
    CLUSTER_END_TO_END,
    FREE_SLOTS_28_DAYS,
    FREE_SLOTS_DAY,
    PATH_END_TO_END,
    PATH_HTTP,
    PATH_TO_KAFKA,
    PROJECTIONS,
    RAW_APPEND,
    RAW_DRAIN,
    RAW_PRODUCE,
    Latency,
    Row,
    percentile,
    ratio,
)
from bench.notes import notes
from bench.offer import not_offered, windows
from bench.report import Report, fmt_cpu, render
from bench.targets import MISS, PASS, UNMEASURED, evaluate
from bench.workload import duties, interleave, plan_slots, station_days


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(list(map(float, range(1, 101))), 99) == pytest.approx(99.01)


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.0], 99) == 7.0


def test_percentile_refuses_nothing_and_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_ratio_is_unknown_without_both_sides() -> None:
    assert ratio(50.0, 200.0) == 0.25
    assert ratio(None, 2.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0.0) is None


def test_latency_is_summarised_in_milliseconds() -> None:
    latency = Latency.of([0.001, 0.002, 0.003])
    assert latency.p50_ms == pytest.approx(2.0)
    assert latency.mean_ms == pytest.approx(2.0)
    assert latency.max_ms == pytest.approx(3.0)


def _row(key: str, label: str, count: int, wall: float | None, **cpu_seconds: float) -> Row:
    return Row(key, label, count, wall, Latency(1.5, 9.25, 2.0, 12.0), **cpu_seconds)


def _report() -> Report:
    return Report(
        rows=[
            _row(RAW_PRODUCE, "A  raw produce", 1000, 2.0, client_cpu=0.5, server_cpu=1.0),
            _row(RAW_APPEND, "B  raw append", 1000, 4.0, client_cpu=0.25),
            _row(PATH_HTTP, "path  POST → 201", 1000, 9.0),
            _row(PATH_END_TO_END, "path  end to end", 1000, 10.0, service_cpu=3.0, client_cpu=1.0),
        ],
        parameters={"count": 1000, "concurrency": 8, "warmup": 100},
        notes=["what each row means"],
    )


def test_rates_cpu_per_booking_and_path_ratios() -> None:
    report = _report()
    assert report.row(RAW_PRODUCE).rate == 500.0
    assert report.row(PATH_END_TO_END).per_item(report.row(PATH_END_TO_END).service_cpu) == 0.003
    assert report.path_over(RAW_PRODUCE) == pytest.approx(0.2)
    assert report.path_over(RAW_APPEND) == pytest.approx(0.4)


def test_the_path_on_a_cluster_is_a_ratio_of_the_path_on_one_broker() -> None:
    report = _report()
    path_row = report.row(PATH_END_TO_END)
    assert path_row.wall_seconds is not None
    report.rows.append(
        dataclasses.replace(path_row, key=CLUSTER_END_TO_END, wall_seconds=path_row.wall_seconds * 4)
    )
    assert report.cluster_over_path() == pytest.approx(0.25)
    assert "path on three Kafka nodes ÷ on one broker, bookings/s: 0.25x." in notes(report)


def test_a_row_without_wall_time_has_no_rate() -> None:
    assert _row("x", "latency only", 10, None).rate is None


def test_path_ratio_is_unknown_when_the_path_was_not_measured() -> None:
    report = _report()
    report.rows = [r for r in report.rows if r.key != PATH_END_TO_END]
    assert report.path_over(RAW_PRODUCE) is None


def test_table_shows_rates_latencies_cpu_and_ratios() -> None:
    out = io.StringIO()
    Console(file=out, width=220, color_system=None).print(render(_report()))
    text = out.getvalue()
    assert "concurrency 8" in text
    a_line = next(line for line in text.splitlines() if "A  raw produce" in line)
    assert "500.0" in a_line and "1.50" in a_line and "9.25" in a_line
    assert "0.0005" in a_line and "0.001" in a_line and "0.20" in a_line
    path_line = next(line for line in text.splitlines() if "path  end to end" in line)
    assert "100.0" in path_line and "0.003" in path_line
    assert "what each row means" in text


def test_json_carries_every_figure() -> None:
    data = json.loads(json.dumps(_report().to_json()))
    assert data["ratios"] == {
        "path/A": pytest.approx(0.2), "path/B": pytest.approx(0.4), "cluster path/path": None,
    }  # fmt: skip
    a = data["rows"][0]
    assert a["per_second"] == 500.0
    assert a["latency_ms"]["p99"] == 9.25
    assert a["cpu_seconds_per_item"] == {"client": 0.0005, "service": None, "servers": 0.001}


def test_unknown_cpu_shows_a_dash_and_small_cpu_keeps_three_figures() -> None:
    assert fmt_cpu(None) == "—"
    assert fmt_cpu(0.0012345) == "0.00123"
    assert fmt_cpu(0.000082) == "0.0000820"
    assert fmt_cpu(0.0) == "0"


def test_proc_stat_is_read_after_a_command_name_with_spaces() -> None:
    ticks = proctree.CLOCK_TICKS
    line = (
        f"42 (tricky name) S 7 42 42 0 -1 4194560 100 0 0 0 {3 * ticks} {ticks} {2 * ticks} 0 "
        "20 0 1 0 100 1000 10 18446744073709551615"
    )
    found = proctree.parse_stat(line)
    assert found.ppid == 7
    assert (found.utime, found.stime, found.cutime, found.cstime) == (3.0, 1.0, 2.0, 0.0)
    assert found.own == 4.0 and found.with_reaped_children == 6.0


def test_listening_sockets_are_found_by_port() -> None:
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 1111 1\n"
        "   1: 0100007F:2384 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  0  0 2222 1\n"
        "   2: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 3333 1\n"
    )
    assert cpu.listening_inodes(table, 9092) == {"1111"}
    assert cpu.listening_inodes(table, 5432) == {"3333"}
    assert cpu.listening_inodes(table, 80) == set()


def test_planned_slots_are_distinct_future_and_spread_over_diary_days() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    plan = plan_slots(200, now)
    assert len(plan) == 200
    assert len({(s.station_id, s.starts_at) for s in plan}) == 200
    assert all(s.starts_at > now for s in plan)
    # Neighbours never share a stream, so bookings in flight together do not race.
    assert all(a.stream_id != b.stream_id for a, b in itertools.pairwise(plan))


def test_interleave_takes_one_of_each_group_in_turn() -> None:
    plan = plan_slots(6, datetime(2026, 3, 2, 12, tzinfo=UTC))
    groups = [plan[:3], plan[3:5], plan[5:]]
    assert interleave(groups) == [plan[0], plan[3], plan[5], plan[1], plan[4], plan[2]]


def test_slots_the_service_does_not_offer_are_named() -> None:
    plan = plan_slots(40, datetime(2026, 3, 2, 12, tzinfo=UTC))
    offer = {(s.station_id, s.starts_at) for s in plan[1:]}
    assert not_offered(plan, offer) == [plan[0]]
    assert not_offered(plan, offer | {(plan[0].station_id, plan[0].starts_at)}) == []


def test_days_are_asked_for_in_as_few_ranges_as_the_endpoint_allows() -> None:
    first = date(2026, 3, 2)
    days = [first + timedelta(days=n) for n in (0, 5, 59, 60, 61, 200)]
    assert windows(days) == [
        (first, first + timedelta(days=59)),
        (first + timedelta(days=60), first + timedelta(days=61)),
        (first + timedelta(days=200), first + timedelta(days=200)),
    ]


def test_every_planned_day_gets_one_officer_on_duty_over_all_its_slots() -> None:
    plan = plan_slots(100, datetime(2026, 3, 2, 12, tzinfo=UTC))
    roster = duties(plan, "run1")
    assert set(roster) == {s.stream_id for s in plan}
    for slot in plan:
        duty = roster[slot.stream_id]
        assert duty.station_id == slot.station_id
        assert duty.starts_at <= slot.starts_at and slot.ends_at <= duty.ends_at
    # The same officer serves a station every day; each day is its own duty.
    assert len({d.officer_id for d in roster.values()}) == len({s.station_id for s in plan})
    assert len({d.duty_id for d in roster.values()}) == len(roster)


def _latency(p50_ms: float, p99_ms: float) -> Latency:
    return Latency(p50_ms, p99_ms, p50_ms, p99_ms)


def _figures() -> Report:
    """A run whose figures pass some targets and miss others; the big store did not run."""
    return Report(
        rows=[
            Row(RAW_APPEND, "B raw append", 1000, 4.0, _latency(10.0, 20.0)),
            Row(PATH_HTTP, "path POST→201", 1000, 9.0, _latency(30.0, 50.0)),
            Row(PATH_TO_KAFKA, "path 201→Kafka", 1000, None, _latency(20.0, 60.0)),
            Row(PATH_END_TO_END, "path POST→Kafka", 1000, 10.0, _latency(40.0, 90.0), service_cpu=2.0),
            Row(FREE_SLOTS_DAY, "free slots, 1 day", 300, 3.0, _latency(10.0, 15.0)),
            Row(FREE_SLOTS_28_DAYS, "free slots, 28 days", 300, 9.0, _latency(30.0, 40.0)),
            Row(RAW_DRAIN, "raw getmany drain", 20000, 1.0, None),
            Row(PROJECTIONS, "projections catch-up", 20000, 4.0, None),
        ],
        parameters={"count": 1000, "concurrency": 8, "warmup": 100},
    )


def test_each_target_is_met_missed_or_not_measured_from_the_figures() -> None:
    verdicts = {v.target.key: v for v in _figures().verdicts()}
    expected = {
        "path-rate": (0.4, MISS),  # 100/s over 250/s, needs >= 0.5
        "post-201-p99": (2.5, PASS),  # 50 ms over 20 ms, needs <= 3
        "to-kafka-p99": (60.0, MISS),  # needs <= 50 ms
        "service-cpu": (2.0, PASS),  # 2 s over 1000 bookings, needs <= 2.5 ms
        "free-slots": (3.0, PASS),  # exactly on the bound still passes
        "projections": (0.25, MISS),  # 5,000/s over 20,000/s, needs >= 0.3
        "replay-rate": (None, UNMEASURED),
        "replay-drain": (None, UNMEASURED),
        "big-store": (None, UNMEASURED),
    }
    assert set(verdicts) == set(expected)
    for key, (measured, mark) in expected.items():
        assert verdicts[key].measured == (None if measured is None else pytest.approx(measured)), key
        assert verdicts[key].mark == mark, key


def test_the_big_store_target_compares_the_path_with_itself_on_an_empty_store() -> None:
    report = _figures()
    report.rows.append(Row(BIG_STORE_END_TO_END, "path (1,000,000 in store) POST→Kafka", 1000, 11.0, None))
    [verdict] = [v for v in report.verdicts() if v.target.key == "big-store"]
    assert verdict.measured == pytest.approx(10.0 / 11.0)
    assert verdict.mark == PASS
    report.rows[-1] = Row(BIG_STORE_END_TO_END, "slower", 1000, 12.5, None)
    assert evaluate(report.rows)[-1].mark == MISS


def test_the_targets_table_prints_each_figure_beside_its_bound_and_marks_misses() -> None:
    out = io.StringIO()
    Console(file=out, width=220, color_system=None).print(render(_figures()))
    lines = out.getvalue().splitlines()
    assert any("3 missed of 9" in line for line in lines)

    def line_of(label: str) -> str:
        return next(line for line in lines if label in line)

    assert all(part in line_of("B raw append rate") for part in ("0.40x", "≥ 0.50x", MISS))
    assert all(part in line_of("201→Kafka p99") for part in ("60.0 ms", "≤ 50.0 ms", MISS))
    assert all(part in line_of("CPU per booking") for part in ("2.0 ms", "≤ 2.5 ms", PASS))
    assert all(part in line_of("28 days ÷ 1 day") for part in ("3.00x", "≤ 3.00x", PASS))
    assert all(part in line_of("preloaded store") for part in ("—", "≥ 0.90x", UNMEASURED))
    # A row with only a rate (a drain) shows dashes for its latencies.
    assert "—" in line_of("raw getmany drain")


def test_json_holds_every_target_with_its_verdict() -> None:
    data = json.loads(json.dumps(_figures().to_json()))
    targets = {t["key"]: t for t in data["targets"]}
    assert targets["path-rate"] == {
        "key": "path-rate",
        "label": "path POST→Kafka rate ÷ B raw append rate",
        "measured": pytest.approx(0.4),
        "bound": 0.5,
        "comparison": ">=",
        "unit": "x",
        "met": False,
        "verdict": MISS,
    }
    assert (targets["to-kafka-p99"]["comparison"], targets["to-kafka-p99"]["unit"]) == ("<=", "ms")
    assert targets["service-cpu"]["met"] is True
    assert targets["big-store"]["met"] is None and targets["big-store"]["measured"] is None
    assert next(r for r in data["rows"] if r["key"] == RAW_DRAIN)["latency_ms"] is None


def test_free_slot_days_cover_every_day_of_the_range_at_one_station() -> None:
    first = date(2026, 3, 2)
    slots = station_days("stevenage", first, 28, datetime(2026, 3, 1, 12, tzinfo=UTC))
    assert {s.station_id for s in slots} == {"stevenage"}
    assert min(s.day for s in slots) == first
    assert max(s.day for s in slots) <= first + timedelta(days=27)
    assert len({s.day for s in slots}) > 20  # open most days
