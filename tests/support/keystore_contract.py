"""The key-store contract: one suite that the database and in-memory key stores both pass."""

from __future__ import annotations

import pytest

from schemas.personal import Sealed
from services.booking.adapters.personal import seal_caller
from services.common.shredding import KeyStore, SubjectErased


class KeyStoreContract:
    """Subclass with a ``keys`` fixture yielding an empty key store."""

    async def test_an_erased_callers_details_can_never_be_read_again_and_a_new_booking_gets_a_new_key(
        self, keys: KeyStore
    ) -> None:
        caller, texts = await seal_caller(
            keys, name="Jane Citizen", phone="+447700900123", address=None,
            texts={"summary": "Bike stolen"}, secret="s",
        )  # fmt: skip
        assert await keys.open(caller.name) == "Jane Citizen"
        assert await keys.open(texts["summary"]) == "Bike stolen"
        # The same caller again shares the key, so one erasure covers every booking.
        again, _ = await seal_caller(
            keys, name="Jane Citizen", phone="+447700900123", address=None, texts={}, secret="s"
        )
        assert again.subject_id == caller.subject_id

        assert await keys.erase(caller.subject_id, erased_by="auditor:a1") is True
        assert await keys.open(caller.name) is None
        assert await keys.open(texts["summary"]) is None
        assert await keys.erase(caller.subject_id, erased_by="auditor:a1") is False

        after, _ = await seal_caller(
            keys, name="Jane Citizen", phone="+447700900123", address=None, texts={}, secret="s"
        )
        assert after.subject_id != caller.subject_id
        assert await keys.open(after.name) == "Jane Citizen"
        assert await keys.open(caller.name) is None  # the old copies stay unreadable

    async def test_sealing_for_an_erased_subject_is_refused(self, keys: KeyStore) -> None:
        await keys.seal("subject-a", {"name": "A"})
        await keys.erase("subject-a", erased_by="auditor:a1")
        with pytest.raises(SubjectErased):
            await keys.seal("subject-a", {"name": "A"})

    async def test_an_unknown_subject_reads_as_nothing_and_cannot_be_erased(self, keys: KeyStore) -> None:
        ghost = Sealed(subject_id="subject-none", nonce="AAAAAAAAAAAAAAAA", ciphertext="AAAA")
        assert await keys.open(ghost) is None
        assert await keys.erase("subject-none", erased_by="auditor:a1") is False

    async def test_a_value_sealed_for_one_subject_does_not_open_as_another(self, keys: KeyStore) -> None:
        sealed = (await keys.seal("subject-b", {"name": "B"}))["name"]
        await keys.seal("subject-c", {"name": "C"})
        forged = sealed.model_copy(update={"subject_id": "subject-c"})
        with pytest.raises(ValueError, match="tampered"):
            await keys.open(forged)
