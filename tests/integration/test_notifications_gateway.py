"""The Notify adapter's error paths, against a fake Notify on the loopback, through the official client."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import structlog

from services.notifications.domain.templates import APPOINTMENT_BOOKED
from services.notifications.gateway import metrics
from services.notifications.gateway.notify import NotifyGateway, NotifyRefused, NotifyUnavailable, Sms

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"station_appointments_test-{SERVICE_ID}-{SECRET}"
SMS = Sms(
    "+447700900123", APPOINTMENT_BOOKED.id, {"place": "Stevenage Police Station"}, "appointment:a:message:m"
)


@dataclass
class FakeNotify:
    """Answers each POST with the next scripted (status, body, delay); remembers what it got."""

    script: list[tuple[int, dict[str, Any], float]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def fake_notify() -> Iterator[FakeNotify]:
    fake = FakeNotify()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["content-length"])
            token = self.headers["authorization"].removeprefix("Bearer ")
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
            fake.received.append({"iss": claims["iss"], **json.loads(self.rfile.read(length))})
            status, body, delay = fake.script.pop(0) if fake.script else (201, {"id": "n-1"}, 0.0)
            time.sleep(delay)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def gateway(url: str, **kw: Any) -> NotifyGateway:
    return NotifyGateway(API_KEY, url, max_wait_seconds=0.05, timeout_seconds=kw.pop("timeout", 2.0), **kw)


def error(status: int, message: str) -> dict[str, Any]:
    return {"errors": [{"error": "BadRequestError", "message": message}], "status_code": status}


async def test_a_text_is_sent_with_notify_s_arguments_and_a_signed_token(fake_notify: FakeNotify) -> None:
    notify_id = await gateway(fake_notify.url, sms_sender_id="sender-1").send(SMS)
    assert notify_id == "n-1"
    (got,) = fake_notify.received
    assert got == {
        "iss": SERVICE_ID, "phone_number": "+447700900123", "template_id": APPOINTMENT_BOOKED.id,
        "personalisation": {"place": "Stevenage Police Station"}, "reference": "appointment:a:message:m",
        "sms_sender_id": "sender-1",
    }  # fmt: skip


async def test_a_400_is_final_with_notify_s_reason_and_no_number(fake_notify: FakeNotify) -> None:
    fake_notify.script = [(400, error(400, "phone_number 07700 900123 is Not a UK mobile number"), 0.0)]
    with pytest.raises(NotifyRefused) as refused:
        await gateway(fake_notify.url).send(SMS)
    assert refused.value.reason == "phone_number [number] is Not a UK mobile number"
    assert len(fake_notify.received) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_5xx_503_and_429_are_tried_again_until_notify_takes_it(
    fake_notify: FakeNotify, status: int
) -> None:
    fake_notify.script = [(status, error(status, "busy"), 0.0), (status, error(status, "busy"), 0.0)]
    assert await gateway(fake_notify.url).send(SMS) == "n-1"
    assert len(fake_notify.received) == 3


async def test_a_time_out_is_tried_again(fake_notify: FakeNotify) -> None:
    fake_notify.script = [(201, {"id": "late"}, 1.5)]
    assert await gateway(fake_notify.url, timeout=0.5).send(SMS) == "n-1"
    assert len(fake_notify.received) == 2


async def test_notify_down_after_every_attempt_is_unavailable_not_refused(fake_notify: FakeNotify) -> None:
    fake_notify.script = [(503, error(503, "down"), 0.0)] * 3
    with pytest.raises(NotifyUnavailable):
        await gateway(fake_notify.url, attempts=3).send(SMS)
    assert len(fake_notify.received) == 3


async def test_a_wrong_key_is_unavailable_so_the_text_waits(fake_notify: FakeNotify) -> None:
    fake_notify.script = [(403, error(403, "Invalid token"), 0.0)]
    with pytest.raises(NotifyUnavailable):
        await gateway(fake_notify.url).send(SMS)
    assert len(fake_notify.received) == 1


async def test_the_rate_limit_holds_to_its_rolling_window(fake_notify: FakeNotify) -> None:
    limited = gateway(fake_notify.url, rate_per_minute=6)  # one every 10 s on average, a burst of 6
    for _ in range(6):
        await limited.send(SMS)
    # The burst is spent: the next text waits for the window to drain, about 10 s away however
    # slowly the six went (no clock is asserted); it is not sent meanwhile.
    blocked = asyncio.create_task(limited.send(SMS))
    await asyncio.sleep(0.5)
    assert not blocked.done() and len(fake_notify.received) == 6
    blocked.cancel()


async def test_the_daily_allowance_is_a_metric_and_a_warning_is_logged_from_nine_tenths_of_it(
    fake_notify: FakeNotify,
) -> None:
    limited = gateway(fake_notify.url, daily_allowance=10)
    assert metrics.ALLOWANCE._value.get() == 10
    with structlog.testing.capture_logs() as logged:
        for n in range(1, 11):
            await limited.send(SMS)
            assert metrics.SENT_TODAY._value.get() == n
            near = [e for e in logged if e["event"] == "near Notify's daily allowance of texts"]
            # Nothing until 9 of 10 are gone; then once, and again when the allowance is spent.
            assert len(near) == (0 if n < 9 else 1 if n == 9 else 2)
    assert near[0]["log_level"] == "warning"
    assert (near[0]["sent_today"], near[0]["allowance"], near[1]["share"]) == (9, 10, 1.0)
    assert not any("7700" in str(e) for e in logged)


async def test_after_a_restart_the_day_s_count_carries_on_from_what_was_kept(fake_notify: FakeNotify) -> None:
    today = datetime.now(UTC).date()
    restarted = gateway(fake_notify.url, daily_allowance=10)
    restarted.resume(today - timedelta(days=1), 7)  # yesterday's count is not today's
    assert metrics.SENT_TODAY._value.get() != 7
    restarted.resume(today, 8)
    assert metrics.SENT_TODAY._value.get() == 8
    with structlog.testing.capture_logs() as logged:
        await restarted.send(SMS)
    assert metrics.SENT_TODAY._value.get() == 9
    (near,) = [e for e in logged if e["event"] == "near Notify's daily allowance of texts"]
    assert near["sent_today"] == 9
