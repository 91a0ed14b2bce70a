"""A caller's phone and postcode are checked at the edge, and a refusal never repeats them."""

from __future__ import annotations

import pytest

from services.booking.adapters.personal import InvalidPersonalData, normalise_phone, normalise_postcode


@pytest.mark.parametrize("written", ["07700 900462", "07700-900-462", "+44 (0)7700 900462", "07700.900.462"])
def test_a_phone_as_people_write_it_becomes_e164(written: str) -> None:
    assert normalise_phone(written, "caller.phone", production=False) == "+447700900462"


@pytest.mark.parametrize(
    "written", ["Zeb 07700 900462", "07700 900462 ext", "call 07700900462", "07700\x00900462"]
)
def test_a_phone_with_anything_else_in_it_is_refused_without_repeating_it(written: str) -> None:
    with pytest.raises(InvalidPersonalData) as refused:
        normalise_phone(written, "caller.phone", production=False)
    assert refused.value.field == "caller.phone"
    assert "900462" not in refused.value.reason and "Zeb" not in refused.value.reason


def test_a_postcode_is_spaced_and_capitalised_or_refused() -> None:
    assert normalise_postcode("sg11hf", "caller.address.postcode") == "SG1 1HF"
    with pytest.raises(InvalidPersonalData):
        normalise_postcode("not a postcode", "caller.address.postcode")
