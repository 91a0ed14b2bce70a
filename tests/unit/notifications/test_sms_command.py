"""`appointments sms`: the simulator's phone from the command line, against a simulator on the loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from notifications_python_client.notifications import NotificationsAPIClient
from typer.testing import CliRunner

import cli.sms
from cli.main import app as cli_app
from services.notifications.domain.templates import CONFIRMED
from services.notifications.gateway.simulator import Simulator, SimulatorSettings, create_app

KEY = "local_simulator-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Simulator, str]]:
    """The simulator served on a free port; its callbacks go to itself, which has no such route (404)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cfg = SimulatorSettings(port=port, failure_share=0, delay_seconds=0, callback_url=url)
    app = create_app(cfg, KEY)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.01)
    monkeypatch.setattr(cli.sms, "simulator_url", lambda: url)
    yield app.state.simulator, url
    server.should_exit = True
    thread.join(5)


def test_the_command_shows_each_text_sent_and_a_reply_reaches_the_phone_s_last_text(
    simulator: tuple[Simulator, str],
) -> None:
    sim, url = simulator
    notify = NotificationsAPIClient(KEY, base_url=url)  # type: ignore[no-untyped-call]
    notify.send_sms_notification(  # type: ignore[no-untyped-call]
        phone_number="07700 900123",
        template_id=CONFIRMED.id,
        personalisation={"time": "5pm", "day": "Tuesday 2 March 2027"},
        reference="appointment:a:message:m",
    )
    runner = CliRunner()
    shown = runner.invoke(cli_app, ["sms"], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert "+447700900123" in shown.output and "Hertfordshire Police" in shown.output
    replied = runner.invoke(cli_app, ["sms", "--reply", "YES"])
    assert replied.exit_code == 0, replied.output
    assert "Replied 'YES' from +447700900123" in replied.output
    assert [t.replies for t in sim.texts] == [["YES"]]


def test_with_no_simulator_the_command_says_so_and_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.sms, "simulator_url", lambda: f"http://127.0.0.1:{_free_port()}")
    result = CliRunner().invoke(cli_app, ["sms"])
    assert result.exit_code == 1 and "does not answer" in result.output
