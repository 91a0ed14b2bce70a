"""A call taker reading a caller's reply in clear is in the access log, on the real servers (DPA 2018 s.62).

The notifications service records each opening of a caller's words (``RepliesRead``: who, when,
whose, which appointment, through what; never the words) in its own chained store before it
answers, and publishes it; the projections' ``GET /access-log`` shows it as a consultation, by
subject and among the period's consultations. Its own calendar days: April 2029.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.common.auth import Role
from services.common.chain_reader import verify_database
from services.common.config import Settings
from services.common.db import migrate
from services.common.london import local
from services.projections.main import MIGRATIONS
from tests.integration.test_notifications import (
    booked_and_replied,
    gateway_and_notifications,  # noqa: F401  (the notifications service and its Notify simulator)
    notification_events,
)
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
DAY = "2029-04-03"
PHONE = "07700 900631"
WORDS = "Is there parking near the station please"
READER = "ct-4471"


async def access_log(projections: ServiceProcess, **params: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR, "aud-1")) as client:
        response = await client.get("/access-log", params=params)
    assert response.status_code == 200, response.text
    assert "parking" not in response.text  # never the words
    entries: list[dict[str, Any]] = response.json()
    return entries


async def until_consulted(
    projections: ServiceProcess, appointment_id: str, **params: str
) -> list[dict[str, Any]]:
    """The access log's entries once it shows the appointment's replies read; TimeoutError otherwise."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        entries = await access_log(projections, **params)
        if any(
            e["appointment_id"] == appointment_id and e["recorded_in"] == "notifications" for e in entries
        ):
            return entries
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the access log never showed the replies of {appointment_id} read")


async def test_reading_a_callers_reply_in_clear_is_a_consultation_in_the_access_log(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
    gateway_and_notifications: tuple[ServiceProcess, ServiceProcess],  # noqa: F811
    test_settings: Settings,
) -> None:
    booking, projections = booking_and_projections
    simulator, notifications = gateway_and_notifications
    appointment_id, subject = await booked_and_replied(
        booking, simulator, test_settings, officer_id="officer-replies-2029",
        week_of=datetime(2029, 4, 2, tzinfo=UTC), day=DAY, phone=PHONE, words=WORDS,
    )  # fmt: skip

    async with httpx.AsyncClient(base_url=notifications.url, headers=auth(Role.CALL_TAKER, READER)) as client:
        answer = (await client.get(f"/appointments/{appointment_id}/messages")).json()
    assert [r["words"] for r in answer["replies"]] == [WORDS]

    # Recorded by the notifications before they answered, and published: who, whose, which, how.
    (read,) = await notification_events(test_settings, "RepliesRead", appointment_id)
    assert read["subject_ids"] == [subject] and read["replies"] == 1
    assert (read["accessed_by"], read["role"]) == (READER, "call-taker")
    assert read["channel"] == "GET /appointments/{appointment_id}/messages"
    assert "parking" not in json.dumps(read)

    today = local(datetime.now(UTC)).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    by_subject = await until_consulted(projections, appointment_id, subject=subject, **period)
    (consulted,) = [e for e in by_subject if e["operation"] == "consultation"]
    assert consulted["subject_id"] == subject and consulted["appointment_id"] == appointment_id
    assert consulted["by"] == f"call-taker:{READER}"
    assert consulted["channel"] == "GET /appointments/{appointment_id}/messages"
    assert consulted["recorded_in"] == "notifications" and consulted["recipient"] is None
    # Beside the reply's own collection, recorded by the notifications too.
    assert any(e["operation"] == "collection" and e["what"] == "ReplyReceived" for e in by_subject)

    # Among every consultation of the period, without a subject named.
    every = await until_consulted(projections, appointment_id, **period)
    assert [e["by"] for e in every if e["appointment_id"] == appointment_id] == [f"call-taker:{READER}"]

    # Kept in the notifications' own chained store, which audit verify walks.
    report = await verify_database(test_settings.database_url("notifications"), "notifications")
    assert report.found and not report.breaks
    assert any(stream.startswith("access-log:") for stream in report.heads)


async def test_the_listing_of_every_reply_read_finds_them_by_their_own_index(
    fresh_database: Callable[[str], Awaitable[asyncpg.Pool]],
) -> None:
    """No subject and no period named: the RepliesRead events in time order, not the whole history."""
    pool = await fresh_database("proj_replies_index")
    await migrate(pool, [MIGRATIONS])
    async with pool.acquire() as conn:
        await conn.execute("set enable_seqscan = off")  # whether the index serves the query at all
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "explain select event_id from event_history where event_type = 'RepliesRead'"
                " order by occurred_at, event_id limit 100"
            )
        )
    assert "event_history_replies_read" in plan, plan
    assert "Sort" not in plan, plan  # read in the index's order
