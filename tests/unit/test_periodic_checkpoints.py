"""When a service signs its own database's checkpoints periodically, and when it must not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from services.common.checkpoints import Checkpoint, CheckpointSettings, _due_in, periodic
from services.common.config import Settings


def test_every_fifteen_minutes_by_default_into_the_state_folder(tmp_path: Path) -> None:
    cfg = Settings(state_dir=tmp_path)
    signing = periodic("booking", cfg, CheckpointSettings())
    assert signing is not None
    assert (signing.database, signing.folder, signing.every) == ("booking", tmp_path / "checkpoints", 900.0)


def test_none_when_switched_off(tmp_path: Path) -> None:
    assert (
        periodic("booking", Settings(state_dir=tmp_path), CheckpointSettings(checkpoint_every_seconds=0))
        is None
    )


def test_databases_with_a_suffix_sign_only_into_a_folder_named_for_them(tmp_path: Path) -> None:
    # A test's "booking_t1234" beside a live stack must not sign into the stack's folder as "booking".
    cfg = Settings(state_dir=tmp_path, db_suffix="_t1234")
    assert periodic("booking", cfg, CheckpointSettings()) is None
    own = periodic("booking", cfg, CheckpointSettings(checkpoint_dir=tmp_path / "mine"))
    assert own is not None and own.folder == tmp_path / "mine"


def test_production_without_a_signing_key_signs_nothing_and_still_starts(tmp_path: Path) -> None:
    cfg = Settings(state_dir=tmp_path, environment="production")
    assert periodic("booking", cfg, CheckpointSettings()) is None
    assert not (tmp_path / "checkpoint-keys").exists()  # nothing generated in production


def test_due_at_once_without_a_checkpoint_then_a_period_after_the_latest() -> None:
    now = datetime(2029, 4, 2, 12, 0, tzinfo=UTC)
    assert _due_in(None, 900, now) == 0
    latest = Checkpoint(now - timedelta(seconds=600), {})
    assert _due_in(latest, 900, now) == 300
    assert _due_in(Checkpoint(now - timedelta(seconds=901), {}), 900, now) < 0


def test_a_signing_key_that_cannot_be_read_signs_nothing_and_still_starts(tmp_path: Path) -> None:
    cfg = Settings(state_dir=tmp_path)
    audit = CheckpointSettings(checkpoint_signing_key=SecretStr("-----BEGIN PRIVATE KEY-----\nnope\n"))
    assert periodic("booking", cfg, audit) is None
