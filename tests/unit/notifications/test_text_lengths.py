"""Lengths as GOV.UK Notify counts them, and every template's worst case within 918."""

from __future__ import annotations

import pytest

from services.notifications.domain.length import MAX_LENGTH, fragments, is_gsm, notify_length, too_long
from services.notifications.domain.templates import LIMITS, TEMPLATES, Template


@pytest.mark.parametrize(
    ("length", "parts"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (918, 6)]
)
def test_parts_follow_notify_160_then_153_each(length: int, parts: int) -> None:
    assert fragments("a" * length) == parts


@pytest.mark.parametrize("char", list("[]{}^\\|~€"))
def test_the_gsm_extension_characters_count_twice(char: str) -> None:
    assert notify_length(char * 80) == 160
    assert fragments(char * 80) == 1
    assert fragments(char * 81) == 2


def test_a_text_outside_gsm_goes_as_unicode_seventy_to_a_part() -> None:
    assert not is_gsm("café ☕")
    assert fragments("☕" * 70) == 1
    assert fragments("☕" * 71) == 2


def test_more_than_918_is_too_long() -> None:
    assert not too_long("a" * MAX_LENGTH)
    assert too_long("a" * (MAX_LENGTH + 1))
    assert too_long("|" * 460)


@pytest.mark.parametrize("template", list(TEMPLATES.values()), ids=list(TEMPLATES))
def test_every_template_at_its_worst_fits_notify(template: Template) -> None:
    assert template.worst_case() <= MAX_LENGTH
    assert is_gsm(template.body), "a template outside GSM would cost a part per 67 characters"
    worst = template.render({key: "W" * LIMITS[key] for key in template.placeholders})
    assert notify_length(worst) == template.worst_case()


def test_a_template_that_could_exceed_918_fails_the_check() -> None:
    long = Template("probe", "x" * 900 + " ((reason))")
    assert long.worst_case() > MAX_LENGTH


def test_a_value_longer_than_its_placeholder_allows_is_refused() -> None:
    template = TEMPLATES["appointment-cancelled"]
    with pytest.raises(ValueError, match="day"):
        template.render({"time": "5pm", "day": "d" * 100})
    with pytest.raises(ValueError, match="needs time"):
        template.render({"day": "Tuesday 2 December 2026"})


def test_template_ids_are_stable_uuids_and_unique() -> None:
    ids = [t.id for t in TEMPLATES.values()]
    assert len(set(ids)) == len(ids)
    assert TEMPLATES["appointment-booked"].id == TEMPLATES["appointment-booked"].id
