"""The Notify simulator answers Notify's API as Notify does, through the official client's shapes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from notifications_python_client.authentication import create_jwt_token

from services.notifications.domain.templates import APPOINTMENT_BOOKED, CONFIRMED
from services.notifications.gateway.simulator import (
    SentText,
    Simulator,
    SimulatorSettings,
    SmsRequest,
    create_app,
)

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
KEY = f"local_simulator-{SERVICE_ID}-{SECRET}"


@pytest.fixture
async def simulator() -> AsyncIterator[tuple[httpx.AsyncClient, Simulator]]:
    # Nobody takes the callbacks here (port 9 refuses at once); the texts' fate is what matters.
    cfg = SimulatorSettings(failure_share=0, delay_seconds=60, callback_url="http://127.0.0.1:9")
    app = create_app(cfg, KEY)
    sim: Simulator = app.state.simulator
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notify.test"
    ) as client:
        yield client, sim
    for task in list(sim.tasks):
        task.cancel()
    await asyncio.gather(*sim.tasks, return_exceptions=True)


def bearer(secret: str = SECRET, service_id: str = SERVICE_ID) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_jwt_token(secret, service_id)}"}  # type: ignore[no-untyped-call]


def sms(template_id: str = CONFIRMED.id, phone: str = "07700 900123") -> dict[str, object]:
    return {
        "phone_number": phone,
        "template_id": template_id,
        "personalisation": {"time": "5pm", "day": "Wednesday 2 December 2026"},
        "reference": "appointment:a:message:m",
    }


async def test_a_text_is_taken_with_notify_s_answer_and_its_body_rendered(
    simulator: tuple[httpx.AsyncClient, Simulator],
) -> None:
    client, sim = simulator
    answer = await client.post("/v2/notifications/sms", json=sms(), headers=bearer())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["reference"] == "appointment:a:message:m" and body["template"]["id"] == CONFIRMED.id
    assert body["content"]["body"] == (
        "Hertfordshire Police: thank you, your appointment at 5pm on Wednesday 2 December 2026 is confirmed."
    )
    (text,) = sim.texts
    assert (text.to, text.status) == ("+447700900123", "sending")


async def test_a_token_not_signed_with_the_key_is_refused(
    simulator: tuple[httpx.AsyncClient, Simulator],
) -> None:
    client, _ = simulator
    answer = await client.post("/v2/notifications/sms", json=sms(), headers=bearer(secret="x" * 36))
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["error"] == "AuthError"


@pytest.mark.parametrize(
    ("template_id", "phone", "message"),
    [
        ("00000000-0000-0000-0000-000000000000", "07700 900123", "Template not found"),
        (CONFIRMED.id, "01707 806100", "phone_number Not a UK mobile number"),
        (APPOINTMENT_BOOKED.id, "07700 900123", "Missing personalisation or too long"),
    ],
)
async def test_what_notify_refuses_is_a_400_in_notify_s_shape(
    simulator: tuple[httpx.AsyncClient, Simulator], template_id: str, phone: str, message: str
) -> None:
    client, _ = simulator
    answer = await client.post("/v2/notifications/sms", json=sms(template_id, phone), headers=bearer())
    assert answer.status_code == 400
    assert answer.json() == {"errors": [{"error": answer.json()["errors"][0]["error"], "message": message}],
                             "status_code": 400}  # fmt: skip


async def test_notify_s_smoke_test_numbers_fail_and_the_rest_are_delivered(
    simulator: tuple[httpx.AsyncClient, Simulator],
) -> None:
    _, sim = simulator
    fates = {}
    for phone in ("07700900002", "07700900003", "07700900123"):
        request = SmsRequest(
            phone_number=phone, template_id=CONFIRMED.id, personalisation={"time": "5pm", "day": "Monday"}
        )
        text = sim.accept(request)
        fates[phone] = sim.outcome(text)
    assert fates == {
        "07700900002": "permanent-failure", "07700900003": "temporary-failure", "07700900123": "delivered",
    }  # fmt: skip


def test_the_configured_share_of_texts_fails_with_each_of_notify_s_failures() -> None:
    sim = Simulator(SimulatorSettings(failure_share=0.25, seed=7), KEY)
    fates = [
        sim.outcome(SentText(str(n), f"+447700900{n % 900 + 100}", "", "confirmed", None, "sending", ""))
        for n in range(2000)
    ]
    failed = [f for f in fates if f != "delivered"]
    # A quarter, give or take what chance does to 2,000 texts; each of Notify's failures among them.
    assert 400 < len(failed) < 600
    assert set(failed) == {"permanent-failure", "temporary-failure", "technical-failure"}
    never = Simulator(SimulatorSettings(failure_share=0, seed=7), KEY)
    assert never.outcome(SentText("x", "+447700900123", "", "confirmed", None, "sending", "")) == "delivered"
