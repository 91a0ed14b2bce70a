"""Each service's login role: which databases it serves, its name, its password, its URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import stat
from pathlib import Path

import pytest
import yaml

from services.common.config import PROJECT_ROOT, Settings
from services.common.db import Login, login_for, scram_sha256

OWNER = "postgresql://appointments:owner-secret@db.example:6543"


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(state_dir=tmp_path, pg_url=OWNER, db_suffix="_t1", **values)  # type: ignore[arg-type]


class TestWhichRoleServesADatabase:
    def test_booking_serves_its_own_database_and_the_key_store(self, tmp_path: Path) -> None:
        cfg = settings(tmp_path)
        assert [cfg.service_of(d) for d in ("booking_t1", "keystore_t1", "roster_t1", "projections_t1")] == [
            "booking",
            "booking",
            "roster",
            "projections",
        ]

    def test_a_database_of_no_service_or_of_another_suffix_is_the_owner_s_alone(self, tmp_path: Path) -> None:
        cfg = settings(tmp_path)
        assert cfg.service_of("booking") is None  # the live stack's, not this run's
        assert cfg.service_of("contract_ab12cd_t1") is None
        assert login_for(f"{OWNER}/bench_store_t1", cfg) is None

    def test_the_role_is_named_after_the_service_and_the_suffix(self, tmp_path: Path) -> None:
        login = login_for(f"{OWNER}/keystore_t1", settings(tmp_path))
        assert login is not None and login.role == "appointments_booking_t1"


class TestPasswords:
    def test_the_environment_s_password_wins(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("APPOINTMENTS_PG_PASSWORD_ROSTER", "from-the-vault")
        assert settings(tmp_path).login_password("roster") == "from-the-vault"
        assert not (tmp_path / "pg-passwords").exists()

    def test_production_without_one_in_the_environment_refuses_to_start(self, tmp_path: Path) -> None:
        with pytest.raises(RuntimeError, match="APPOINTMENTS_PG_PASSWORD_BOOKING"):
            settings(tmp_path, environment="production").login_password("booking")

    def test_elsewhere_one_is_generated_once_into_the_state_folder_readable_by_its_owner_only(
        self, tmp_path: Path
    ) -> None:
        first = settings(tmp_path).login_password("projections")
        kept = tmp_path / "pg-passwords" / "projections"
        assert settings(tmp_path).login_password("projections") == first and len(first) >= 40
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
        assert settings(tmp_path).login_password("roster") != first

    def test_a_password_never_shows_in_a_repr(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("APPOINTMENTS_PG_PASSWORD_BOOKING", "hush-hush")
        cfg = settings(tmp_path)
        assert "hush-hush" not in repr(cfg)
        assert "hush-hush" not in repr(Login("appointments_booking", cfg.login_password("booking")))


class TestTheRoleSURL:
    def test_the_same_server_and_database_as_the_role(self) -> None:
        url = Login("appointments_booking_t1", "p@ss:w/rd").url(f"{OWNER}/booking_t1")
        assert url == "postgresql://appointments_booking_t1:p%40ss%3Aw%2Frd@db.example:6543/booking_t1"

    def test_an_owner_url_without_a_password_works_too(self) -> None:
        url = Login("appointments_roster", "pw").url("postgresql://appointments@127.0.0.1:5432/roster")
        assert url == "postgresql://appointments_roster:pw@127.0.0.1:5432/roster"


def _stored_key(verifier: str, password: str) -> tuple[bytes, bytes]:
    # RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key")); returns (expected, computed).
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256"
    head, keys = rest.split("$")
    iterations, salt = head.split(":")
    stored, _server = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    computed = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    return base64.b64decode(stored), computed


def test_the_scram_verifier_proves_the_password_and_no_other() -> None:
    verifier = scram_sha256("correct horse")
    expected, computed = _stored_key(verifier, "correct horse")
    assert expected == computed
    expected, computed = _stored_key(verifier, "wrong horse")
    assert expected != computed
    assert "correct horse" not in verifier
    assert scram_sha256("correct horse") != verifier  # a fresh salt each time


def test_compose_gives_each_service_its_own_password_and_no_other_s() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    for name in ("booking", "roster", "notifications", "projections"):
        env = compose["services"][name]["environment"]
        passwords = {k for k in env if k.startswith("APPOINTMENTS_PG_PASSWORD_")}
        assert passwords == {f"APPOINTMENTS_PG_PASSWORD_{name.upper()}"}
        assert env["APPOINTMENTS_PG_URL"].startswith("postgresql://appointments:")
