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
    """A topic the project creates: name, partitions, how long it keeps a record.

    ``personal``: it holds callers' details in clear (the control room's requests, and the
    dead letters made of them), so it keeps a record only as long as the deployment's
    personal-data retention (APPOINTMENTS_PERSONAL_TOPIC_RETENTION_HOURS, a week by default).
    """

    name: str
    partitions: int
    keep_forever: bool
    personal: bool = False


# Event topics are the audit history: retention is unlimited (personal data in them is sealed,
# and erased by deleting its key). SMS traffic keeps 30 days.
THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000
DEFAULT_PERSONAL_RETENTION_MS = 7 * 24 * 3600 * 1000
TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(CONTROLROOM_REQUESTS, 3, keep_forever=False, personal=True),
    TopicSpec(BOOKING_EVENTS, 6, keep_forever=True),
    TopicSpec(ROSTER_EVENTS, 3, keep_forever=True),
    TopicSpec(NOTIFICATIONS_EVENTS, 3, keep_forever=True),
    TopicSpec(SMS_OUTBOUND, 3, keep_forever=False),
    TopicSpec(SMS_RECEIPTS, 3, keep_forever=False),
    TopicSpec(SMS_INBOUND, 3, keep_forever=False),
    TopicSpec(DEADLETTER, 1, keep_forever=False, personal=True),
)


def topic_configs(
    spec: TopicSpec, personal_retention_ms: int = DEFAULT_PERSONAL_RETENTION_MS
) -> dict[str, str]:
    """Broker-side configs for a topic."""
    if spec.personal:
        retention = str(personal_retention_ms)
    else:
        retention = "-1" if spec.keep_forever else str(THIRTY_DAYS_MS)
    return {"retention.ms": retention, "retention.bytes": "-1", "cleanup.policy": "delete"}
