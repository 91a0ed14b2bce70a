"""Dead letters leave sealed: their values open only with the deployment's key, for their own topic."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from schemas.topics import BOOKING_EVENTS, DEADLETTER, TOPICS, topic_configs
from services.common.deadletters import SEALED_HEADER, DeadLetterSeal, sealing

VALUE = b'{"caller": {"name": "Alex Example", "phone": "07700 900123"}}'


def test_a_sealed_value_opens_with_the_same_key_for_the_same_topic_only() -> None:
    seal = DeadLetterSeal("a deployment secret")
    sealed = seal.seal(VALUE, "controlroom.appointment-requests")
    assert b"900123" not in sealed and b"Alex" not in sealed
    assert seal.open(sealed, "controlroom.appointment-requests") == VALUE
    with pytest.raises(InvalidTag):
        seal.open(sealed, "booking.events")
    with pytest.raises(InvalidTag):
        DeadLetterSeal("another secret").open(sealed, "controlroom.appointment-requests")
    assert seal.seal(VALUE, "x") != seal.seal(VALUE, "x")  # a fresh nonce each time


async def test_only_records_bound_for_the_dead_letter_topic_are_sealed() -> None:
    sent: list[tuple[str, bytes, list[tuple[str, bytes]]]] = []

    async def publish(topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        sent.append((topic, value, headers))

    seal = DeadLetterSeal("a deployment secret")
    send = sealing(publish, seal)
    source = [("dlq_reason", b"unreadable"), ("dlq_source_topic", b"controlroom.appointment-requests")]
    await send(DEADLETTER, b"k", VALUE, source)
    await send(BOOKING_EVENTS, b"k", VALUE, [])
    (dead_topic, dead_value, dead_headers), (other_topic, other_value, other_headers) = sent
    assert dead_topic == DEADLETTER and dead_value != VALUE
    assert dict(dead_headers)[SEALED_HEADER] == f"aes-256-gcm:{seal.key_id}".encode()
    assert dict(dead_headers)["dlq_reason"] == b"unreadable"  # the reason stays readable
    assert seal.open(dead_value, "controlroom.appointment-requests") == VALUE
    assert (other_topic, other_value, other_headers) == (BOOKING_EVENTS, VALUE, [])


def test_topics_holding_callers_in_clear_keep_records_only_for_the_configured_time() -> None:
    personal = {t.name for t in TOPICS if t.personal}
    assert personal == {"controlroom.appointment-requests", DEADLETTER}
    hour = 3600 * 1000
    for spec in TOPICS:
        retention = topic_configs(spec, 48 * hour)["retention.ms"]
        if spec.personal:
            assert retention == str(48 * hour)
        else:
            assert retention == ("-1" if spec.keep_forever else str(30 * 24 * hour))
