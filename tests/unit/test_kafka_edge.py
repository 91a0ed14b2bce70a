"""Kafka at the edge: patient fetches for reactors, and a cluster's bootstrap reaching every node."""

from __future__ import annotations

import functools
from typing import Any

from services.booking.main import CONSUMERS, WAITLIST_PATIENCE_MS
from services.common import kafka
from services.common.consumer import IdempotentConsumer


def _fetch_settings(patience_ms: int) -> dict[str, Any]:
    broker = kafka.make_broker("localhost:9", "unit")  # never started: only its subscriber is read
    consumer = IdempotentConsumer("unit-consumer", None, None, None, None)  # type: ignore[arg-type]
    kafka.subscribe_batch(broker, "booking.events", consumer, patience_ms=patience_ms)
    (subscriber,) = broker.subscribers
    args: dict[str, Any] = subscriber._connection_args  # type: ignore[attr-defined]
    return args


def test_a_dead_member_s_partitions_go_after_the_broker_s_least_session() -> None:
    args = _fetch_settings(0)
    assert (args["session_timeout_ms"], args["heartbeat_interval_ms"]) == (6000, 2000)


def test_a_patient_fetch_waits_for_records_to_gather() -> None:
    args = _fetch_settings(250)
    assert args["fetch_min_bytes"] == kafka.PATIENT_FETCH_BYTES
    assert args["fetch_max_wait_ms"] == 250


def test_an_impatient_fetch_comes_back_with_the_first_record() -> None:
    assert _fetch_settings(0)["fetch_min_bytes"] == 1


def test_booking_s_waitlist_reactor_is_patient_and_its_command_consumers_are_not() -> None:
    patience = {c.name: c.patience_ms for c in CONSUMERS}
    assert patience["booking-waitlist"] == WAITLIST_PATIENCE_MS > 0
    # Control-room requests and roster changes are answered as they come.
    assert patience["booking-controlroom"] == 0
    assert patience["booking-roster"] == 0


def test_a_cluster_s_comma_separated_bootstrap_reaches_each_node() -> None:
    """FastStream took "a:1,b:2" as one host name, so services never reached a three-node cluster."""
    assert kafka.bootstrap_list("127.0.0.1:9092, 127.0.0.1:9094,127.0.0.1:9096") == [
        "127.0.0.1:9092", "127.0.0.1:9094", "127.0.0.1:9096",
    ]  # fmt: skip
    broker = kafka.make_broker("127.0.0.1:9092,127.0.0.1:9094", "unit")
    consumers = broker.config.broker_config.builder
    assert isinstance(consumers, functools.partial)  # FastStream builds its consumers from this
    assert consumers.keywords["bootstrap_servers"] == ["127.0.0.1:9092", "127.0.0.1:9094"]
