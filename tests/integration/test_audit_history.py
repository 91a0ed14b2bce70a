"""`appointments history` and `appointments diary --at` give the projections' own answers, as tables.

An appointment booked and then cancelled: the command's history names both events and who did
them, with the caller shown sealed, never in clear; the diary as it stood between the two has it
booked, and the diary now agrees with the HTTP answer.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from tests.integration.test_erasure import DAY, book, history
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
APPOINTMENTS = Path(sys.executable).with_name("appointments")


def appointments(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APPOINTMENTS), *args], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "250"}, timeout=120, check=False,
    )  # fmt: skip


def rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("│")]


async def diary_answer(projections: ServiceProcess, at: str | None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        response = await client.get(f"/diaries/stations/stevenage/{DAY}", params={"at": at} if at else None)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_the_history_and_the_diary_as_it_stood_read_as_the_projections_answer(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    appointment_id = await book(booking, "41/55555/27")
    (booked,) = await history(projections, appointment_id)
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-history")) as client:
        body = {"initiated_by": "public", "reason": "no-longer-needed"}
        cancelled = await client.post(f"/appointments/{appointment_id}/cancel", json=body)
    assert cancelled.status_code == 200, cancelled.text
    for _ in range(100):
        items = await history(projections, appointment_id)
        if len(items) == 2:
            break
        await asyncio.sleep(0.2)
    assert [i["event_type"] for i in items] == ["SlotBooked", "AppointmentCancelled"]

    url = ("--url", projections.url)
    shown = appointments("history", appointment_id, *url)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    # A long details cell wraps onto more lines of the table; each event starts one row.
    lines = [line for line in rows(shown.stdout) if " v1 " in line or " v2 " in line]
    assert len(lines) == 2
    for line, item in zip(lines, items, strict=True):
        assert item["event_type"] in line and item["actor"] in line
        assert item["channel"] == "http" and " http " in line  # through which channel: a person's HTTP call
    assert "caller: sealed" in shown.stdout and "briefing: sealed" in shown.stdout
    assert "Wetherspoon" not in shown.stdout and "QWERTZ" not in shown.stdout
    assert appointments("history", "no-such-appointment", *url).returncode == 1

    for at in (booked["occurred_at"], None):
        answer = await diary_answer(projections, at)
        shown = appointments("diary", "stevenage", DAY, *(("--at", at) if at else ()), *url)
        assert shown.returncode == 0, shown.stdout + shown.stderr
        mine = [line for line in rows(shown.stdout) if appointment_id in line]
        expected = [a for a in answer["appointments"] if a["appointment_id"] == appointment_id]
        assert len(mine) == len(expected)
        for line, line_answer in zip(mine, expected, strict=True):
            assert line_answer["status"] in line and line_answer["when"] in line
        assert f"{len(answer['appointments'])} appointment(s)." in shown.stdout
        if at:
            assert [a["status"] for a in expected] == ["booked"]  # as it stood before the cancellation
    assert appointments("diary", "atlantis", DAY, *url).returncode == 1
