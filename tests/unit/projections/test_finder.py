"""The search's keyed hash of a phone is booking's: the same subject ids, every erasure generation."""

from __future__ import annotations

import pytest

from services.booking.adapters.personal import InvalidPersonalData, normalise_phone, seal_caller
from services.common.shredding import MemoryKeyStore
from services.projections.adapters.finder import GENERATIONS, subjects_of

SECRET = "finder-test-secret"


async def booked_subject(keys: MemoryKeyStore, typed: str) -> str:
    """The subject id booking gives a caller who gave this number (as its handlers seal them)."""
    phone = normalise_phone(typed, "caller.phone", production=False)
    caller, _ = await seal_caller(
        keys, name="Ada Example", phone=phone, address=None, texts={}, secret=SECRET
    )
    return caller.subject_id


async def test_a_number_however_typed_finds_the_subject_booking_gave_its_caller_and_after_erasure() -> None:
    keys = MemoryKeyStore()
    first = await booked_subject(keys, "07700 900481")
    for typed in ("07700900481", "+44 7700 900481", "(07700) 900-481"):
        found = subjects_of(typed, SECRET, production=False)
        assert len(found) == GENERATIONS and len(set(found)) == GENERATIONS
        assert found[0] == first
    # Erased, the same number books as a new subject: the search asks for that one too.
    assert await keys.erase(first, "admin:test")
    again = await booked_subject(keys, "07700 900481")
    assert again != first and subjects_of("07700 900481", SECRET, production=False)[1] == again
    # Another key, another pseudonym: the number alone finds nothing.
    assert first not in subjects_of("07700 900481", "another-secret", production=False)
    assert subjects_of("07700 900482", SECRET, production=False)[0] != first


@pytest.mark.parametrize("typed", ["call me", "0", "07700 900481 ext 2"])
def test_what_is_not_a_number_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidPersonalData) as refused:
        subjects_of(typed, SECRET, production=False)
    assert refused.value.field == "phone" and typed not in refused.value.reason


def test_the_drama_range_is_no_number_in_production() -> None:
    with pytest.raises(InvalidPersonalData):
        subjects_of("07700 900481", SECRET, production=True)
