"""An appointment's history as the projections answer it, once they have recorded what a test awaits."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from services.common.auth import Role
from tests.support.services import ServiceProcess, auth


async def channels(projections: ServiceProcess, appointment_id: str, *awaited: str) -> dict[str, str]:
    """Each event type of the appointment's history and the channel it came through (the last of a
    type wins), once every ``awaited`` event type is in it."""
    found: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR, "audit-1")) as client:
        for _ in range(150):
            response = await client.get(f"/appointments/{appointment_id}/history")
            found = response.json() if response.status_code == 200 else []
            if set(awaited) <= {item["event_type"] for item in found}:
                break
            await asyncio.sleep(0.2)
    return {item["event_type"]: item["channel"] for item in found}
