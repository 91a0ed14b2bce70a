"""The roster's events as notifications hears them: an officer's appointment duty gets its morning text.

Only appointment and diary-car duty: the officers who attend appointments. A duty ended
early says so in its text (the shorter span), or has none when nothing of it is left.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from schemas.base import parse_event
from schemas.envelope import Envelope
from schemas.roster import DutyAssigned, DutyEnded
from services.common.consumer import Position
from services.notifications.adapters import tables
from services.notifications.app.ports import Notifications
from services.notifications.domain.officers import Duty, day_due

WANTS = frozenset({DutyAssigned.event_type, DutyEnded.event_type})
APPOINTMENT_DUTIES = frozenset({"appointments", "diary-car"})


class RosterEvents:
    """The consumer of roster.events."""

    def __init__(self, n: Notifications) -> None:
        self._n = n

    def _place(self, event: DutyAssigned) -> str:
        rules = self._n.rules
        if event.duty == "appointments" and event.station_id:
            name = rules.stations.get(event.station_id, event.station_id.replace("-", " ").title())
            return f"{name} Police Station"
        name = rules.districts.get(event.district_id, event.district_id.replace("-", " ").title())
        return f"the {name} diary car"

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """Plan or shorten an officer's day, in the consumer's transaction."""
        event = parse_event(env.event_type, env.schema_version, env.data)
        if isinstance(event, DutyAssigned) and event.duty in APPOINTMENT_DUTIES:
            duty = Duty(event.duty_id, event.officer_id, self._place(event), event.starts_at, event.ends_at)
            due = day_due(duty, self._n.rules)
            if due is not None and duty.ends_at > datetime.now(UTC):
                await tables.plan_officer_day(conn, duty, due)
        elif isinstance(event, DutyEnded):
            await tables.end_officer_day(conn, event.duty_id, event.ends_at)
