"""The bench's sms phase without servers: arrivals counted, burst rows, ratios to A, the sent counter read."""

from __future__ import annotations

import json

from bench import sms
from bench.figures import GATEWAY_SERVICE, RAW_PRODUCE, SMS_OUTBOUND_ROW, SMS_QUEUED, Row
from bench.notes import notes
from bench.report import Report


def test_arrivals_know_when_the_nth_record_of_a_type_came_and_keep_the_texts_whole() -> None:
    arrivals = sms.Arrivals()
    arrivals.add("SmsQueued", b"{}", 1.0)
    arrivals.add("SmsToSend", json.dumps({"message_id": "m1"}).encode(), 1.5)
    arrivals.add("SmsQueued", b"{}", 2.0)
    assert (arrivals.count("SmsQueued"), arrivals.count("SmsToSend"), arrivals.count("Other")) == (2, 1, 0)
    assert arrivals.reached("SmsQueued", 2) == 2.0
    assert arrivals.reached("SmsQueued", 3) is None and arrivals.reached("SmsQueued", 0) is None
    assert arrivals.texts == [{"message_id": "m1"}]


def test_a_burst_row_counts_past_the_warm_up_up_to_the_last_arrival() -> None:
    arrivals = sms.Arrivals()
    for n in range(5):
        arrivals.add("SmsQueued", b"{}", 10.0 + n)
    row = sms._burst_row(SMS_QUEUED, "queued", arrivals, "SmsQueued", warmup=2, start=11.5)
    assert (row.count, row.wall_seconds) == (3, 2.5)
    nothing = sms._burst_row(SMS_QUEUED, "queued", sms.Arrivals(), "SmsQueued", warmup=2, start=0.0)
    assert (nothing.count, nothing.wall_seconds) == (0, None)


def test_the_notes_describe_the_phase_and_put_each_rate_beside_raw_produce() -> None:
    rows = [
        Row(RAW_PRODUCE, "A raw produce", 1000, 0.25, None),
        Row(SMS_QUEUED, "booking events → SmsQueued", 1000, 10.0, None),
        Row(SMS_OUTBOUND_ROW, "booking events → on sms-outbound", 1000, 20.0, None),
        Row(GATEWAY_SERVICE, "gateway consumer", 500, 10.0, None),
    ]
    report = Report(rows, {"concurrency": 8, "warmup": 100, "sms_events": 1000, "sms_texts": 1100})
    written = notes(report)
    assert any(line.startswith("sms: 1,000 SlotBooked records") and "1,100 texts" in line for line in written)
    (ratios,) = [line for line in written if line.startswith("sms ÷ A")]
    # A: 4,000/s; queued 100/s, outbound 50/s, the gateway 50/s.
    assert "SmsQueued 0.025x" in ratios and "sms-outbound 0.013x" in ratios and "consumer 0.013x" in ratios


def test_without_raw_produce_no_ratio_is_made_up() -> None:
    report = Report([Row(SMS_QUEUED, "queued", 10, 1.0, None)], {})
    assert sms.ratios(report) == []


def test_the_sent_counter_is_read_from_the_prometheus_text() -> None:
    text = (
        "# HELP notify_texts_sent_total Texts Notify accepted\n"
        "# TYPE notify_texts_sent_total counter\n"
        "notify_texts_sent_total 1234.0\n"
        "notify_texts_sent_created 1.7e+09\n"
    )
    found = sms._SENT.search(text)
    assert found is not None and int(float(found.group(1))) == 1234
