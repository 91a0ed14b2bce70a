"""Prometheus metrics shared by the machinery every service runs."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RELAY_PUBLISHED = Counter(
    "outbox_published_total", "Outbox rows published to Kafka by the relay", ["topic"]
)
RELAY_BACKLOG = Gauge("outbox_backlog_rows", "Committed outbox rows not yet published")
RELAY_LAG = Gauge(
    "outbox_lag_seconds", "Age of the oldest committed outbox row not yet published (0 when none)"
)
RELAY_DELAY = Histogram(
    "outbox_commit_to_publish_seconds",
    "Time from an outbox row's insert to its publication",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CONSUMED = Counter(
    "consumer_records_total", "Records handled by a consumer", ["consumer", "topic", "outcome"]
)
DEADLETTERED = Counter(
    "consumer_deadlettered_total", "Records sent to the dead-letter topic", ["consumer", "topic"]
)
HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram("http_request_seconds", "HTTP request latency", ["method", "route"])
