"""Checkpoints are signed heads: they read back only whole and only under the audit key."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from services.common import checkpoints
from services.common.chains import Head
from services.common.checkpoints import CheckpointInvalid, CheckpointSettings
from services.common.config import Settings

HEADS = {
    "booking": {
        "station:stevenage:2027-02-03": Head(3, "5d0c7a4e-0000-4000-8000-000000000003", b"\x01" * 32),
        "request:call-4471": Head(1, "5d0c7a4e-0000-4000-8000-000000000001", b"\x02" * 32),
    },
    "roster": {"officer:4021": Head(7, "5d0c7a4e-0000-4000-8000-000000000007", b"\x03" * 32)},
}
NOW = datetime(2027, 2, 3, 9, 30, tzinfo=UTC)


def test_a_signed_checkpoint_reads_back_the_same_heads() -> None:
    key = Ed25519PrivateKey.generate()
    read = checkpoints.read_document(checkpoints.signed_document(HEADS, key, NOW), key.public_key())
    assert read.heads == HEADS and read.made_at == NOW


def test_a_checkpoint_edited_after_signing_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    document = json.loads(checkpoints.signed_document(HEADS, key, NOW))
    document["body"]["databases"]["roster"]["officer:4021"][0] = 6  # an earlier head, to hide a cut tail
    with pytest.raises(CheckpointInvalid, match="signature"):
        checkpoints.read_document(json.dumps(document).encode(), key.public_key())


def test_a_checkpoint_signed_with_another_key_is_refused() -> None:
    forged = checkpoints.signed_document(HEADS, Ed25519PrivateKey.generate(), NOW)
    with pytest.raises(CheckpointInvalid):
        checkpoints.read_document(forged, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(CheckpointInvalid, match="cannot be read"):
        checkpoints.read_document(b"{}", Ed25519PrivateKey.generate().public_key())


def test_each_database_is_held_against_the_latest_checkpoint_that_signed_it(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    older = {**HEADS, "roster": {"officer:4021": Head(9, "id", b"\x09" * 32)}}
    checkpoints.write(
        tmp_path, checkpoints.signed_document(older, key, NOW - timedelta(hours=1)), NOW - timedelta(hours=1)
    )
    newest = checkpoints.write(
        tmp_path, checkpoints.signed_document({"booking": HEADS["booking"]}, key, NOW), NOW
    )
    found = checkpoints.latest_heads(tmp_path, key.public_key(), ["booking", "roster", "projections"])
    assert found["booking"].path == newest
    assert found["roster"].heads["roster"]["officer:4021"].version == 9
    assert "projections" not in found
    assert stat.S_IMODE(newest.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no draft left behind


def test_the_key_pair_is_made_in_the_state_folder_with_a_private_signing_key(tmp_path: Path) -> None:
    cfg = Settings(state_dir=tmp_path)
    key = checkpoints.signing_key(cfg, CheckpointSettings())
    signing = tmp_path / "checkpoint-keys" / "signing-key.pem"
    assert stat.S_IMODE(signing.stat().st_mode) == 0o600
    document = checkpoints.signed_document(HEADS, key, NOW)
    assert (
        checkpoints.read_document(document, checkpoints.public_key(cfg, CheckpointSettings())).heads == HEADS
    )


def test_production_never_makes_a_key_and_takes_it_from_configuration(tmp_path: Path) -> None:
    cfg = Settings(state_dir=tmp_path, environment="production")
    with pytest.raises(RuntimeError, match="APPOINTMENTS_CHECKPOINT_SIGNING_KEY"):
        checkpoints.signing_key(cfg, CheckpointSettings())
    assert not (tmp_path / "checkpoint-keys").exists()
    given = Ed25519PrivateKey.generate()
    pem = given.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    audit = CheckpointSettings(checkpoint_signing_key=SecretStr(pem))
    document = checkpoints.signed_document(HEADS, checkpoints.signing_key(cfg, audit), NOW)
    assert checkpoints.read_document(document, given.public_key()).heads == HEADS
