"""The Kafka topics of the contract (CONTRACT.md), with their declared partitions."""

from __future__ import annotations

from dataclasses import dataclass

CONTROLROOM_REQUESTS = "controlroom.appointment-requests"
BOOKING_EVENTS = "booking.events"
ROSTER_EVENTS = "roster.events"
NOTIFICATIONS_EVENTS = "notifications.events"
SMS_OUTBOUND = "notifications.sms-outbound"
SMS_RECEIPTS = "notifications.sms-receipts"
SMS_INBOUND = "notifications.sms-inbound"
DEADLETTER = "deadletter"


@dataclass(frozen=True)
class TopicSpec:
    """A topic the project creates: name, partitions, and whether it is kept forever."""

    name: str
    partitions: int
    keep_forever: bool


# Event topics are the audit history: retention is unlimited. Message-passing topics
# (SMS traffic, requests) keep a generous 30 days.
THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000
TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(CONTROLROOM_REQUESTS, 3, keep_forever=True),
    TopicSpec(BOOKING_EVENTS, 6, keep_forever=True),
    TopicSpec(ROSTER_EVENTS, 3, keep_forever=True),
    TopicSpec(NOTIFICATIONS_EVENTS, 3, keep_forever=True),
    TopicSpec(SMS_OUTBOUND, 3, keep_forever=False),
    TopicSpec(SMS_RECEIPTS, 3, keep_forever=False),
    TopicSpec(SMS_INBOUND, 3, keep_forever=False),
    TopicSpec(DEADLETTER, 1, keep_forever=True),
)


def topic_configs(spec: TopicSpec) -> dict[str, str]:
    """Broker-side configs for a topic."""
    retention = "-1" if spec.keep_forever else str(THIRTY_DAYS_MS)
    return {"retention.ms": retention, "retention.bytes": "-1", "cleanup.policy": "delete"}
