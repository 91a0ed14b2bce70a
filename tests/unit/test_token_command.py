"""`appointments token ROLE [--sub] [--ttl]`: local tokens the local stack accepts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from cli.main import parse_duration
from services.common.auth import Caller, Role
from services.common.config import settings
from services.common.token_keys import SIGNING_KEY, read_local_token


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8h", timedelta(hours=8)), ("30m", timedelta(minutes=30)), ("1h30m", timedelta(minutes=90)),
     ("2d", timedelta(days=2)), ("90s", timedelta(seconds=90))],
)  # fmt: skip
def test_durations_read_as_written(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "8", "h", "8 hours", "-1h", "1.5h"])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.fixture
def own_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This process's settings point at a token folder of the test's own."""
    monkeypatch.setenv("APPOINTMENTS_TOKEN_KEYS_DIR", str(tmp_path / "tokens"))
    settings.cache_clear()
    yield tmp_path / "tokens"
    monkeypatch.undo()
    settings.cache_clear()


def test_appointments_token_prints_a_local_token_for_the_role_subject_and_ttl(own_keys: Path) -> None:
    result = CliRunner().invoke(cli, ["token", "supervisor", "--sub", "4021", "--ttl", "30m"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert read_local_token(token) == Caller(Role.SUPERVISOR, "4021")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 1800
    assert (own_keys / SIGNING_KEY).exists()


def test_appointments_token_refuses_an_unknown_role_or_a_long_or_unreadable_ttl(own_keys: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["token", "chief-constable"]).exit_code == 2
    assert runner.invoke(cli, ["token", "officer", "--ttl", "8d"]).exit_code == 2
    assert runner.invoke(cli, ["token", "officer", "--ttl", "soon"]).exit_code == 2
    default = runner.invoke(cli, ["token", "officer"])
    claims = jwt.decode(default.stdout.strip().splitlines()[0], options={"verify_signature": False})
    assert (claims["sub"], claims["exp"] - claims["iat"]) == ("local-officer", 8 * 3600)
