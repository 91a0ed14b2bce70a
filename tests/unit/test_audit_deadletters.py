"""A dead letter gives back its original record only under the deployment's key, without the dlq_ headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer

from cli.deadletter import chosen, spoken_age
from cli.deadletter_records import DeadLetter
from services.common.deadletters import DeadLetterSeal

VALUE = b'{"caller": {"name": "Alex Example"}}'
SOURCE = "controlroom.appointment-requests"


def letter(seal: DeadLetterSeal | None, offset: int = 7, consumer: str = "booking-requests") -> DeadLetter:
    original = (("ce_id", b"e-1"), ("ce_type", b"AppointmentRequested"), ("correlation_id", b"c-1"))
    added = (
        ("dlq_reason", b"request_id: Field required"), ("dlq_consumer", consumer.encode()),
        ("dlq_source_topic", SOURCE.encode()), ("dlq_source_partition", b"2"), ("dlq_source_offset", b"41"),
    )  # fmt: skip
    value = VALUE if seal is None else seal.seal(VALUE, SOURCE)
    sealed = () if seal is None else (seal.header(),)
    return DeadLetter(0, offset, 1_700_000_000_000, b"key", value, original + added + sealed)


def test_the_original_record_comes_back_opened_and_without_the_dead_letter_headers() -> None:
    seal = DeadLetterSeal("the deployment key")
    d = letter(seal)
    assert d.id == "0:7" and d.source_topic == SOURCE and VALUE not in d.value
    assert d.original_value(seal) == VALUE
    assert d.original_headers() == [
        ("ce_id", b"e-1"),
        ("ce_type", b"AppointmentRequested"),
        ("correlation_id", b"c-1"),
    ]


def test_a_value_sealed_under_another_key_or_topic_is_refused() -> None:
    d = letter(DeadLetterSeal("an old key"))
    with pytest.raises(ValueError, match="not under this deployment's key"):
        d.original_value(DeadLetterSeal("the deployment key"))
    seal = DeadLetterSeal("the deployment key")
    moved = [(k, b"booking.events" if k == "dlq_source_topic" else v) for k, v in letter(seal).headers]
    with pytest.raises(ValueError, match="does not open"):
        DeadLetter(0, 7, 0, b"key", letter(seal).value, tuple(moved)).original_value(seal)


def test_a_dead_letter_from_before_sealing_is_sent_as_it_was() -> None:
    assert letter(None).original_value(DeadLetterSeal("the deployment key")) == VALUE


def test_ages_read_as_an_operator_reads_them() -> None:
    put_aside = letter(None)
    at = datetime.fromtimestamp(1_700_000_000, UTC)
    assert spoken_age(put_aside.age(at + timedelta(days=3, hours=4, minutes=5))) == "3d 4h"
    assert [spoken_age(timedelta(seconds=s)) for s in (40, 720, 5 * 3600 + 120, -5)] == [
        "40s",
        "12m",
        "5h 2m",
        "0s",
    ]


def test_reprocess_takes_ids_or_all_never_both_and_knows_every_id() -> None:
    letters = [letter(None, 1), letter(None, 2, "roster-county"), letter(None, 3)]
    assert [d.offset for d in chosen(letters, ["0:3", "0:1"], False, "")] == [3, 1]
    assert [d.offset for d in chosen(letters, [], True, "roster-county")] == [2]
    assert len(chosen(letters, [], True, "")) == 3
    for ids, every in (([], False), (["0:1"], True)):
        with pytest.raises(typer.BadParameter):
            chosen(letters, ids, every, "")
    with pytest.raises(typer.BadParameter, match="0:9"):
        chosen(letters, ["0:9"], False, "")
