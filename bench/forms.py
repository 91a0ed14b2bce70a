"""Realistic booking forms, the SlotBooked events they make, and a backlog of such events.

The events are made without servers but through the service's own code
(``seal_caller``, the decider, ``outgoing``), so values and headers are the size
of the real ones.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bench.workload import PlannedSlot, duties, plan_slots
from schemas.booking import Briefing
from schemas.envelope import source_of
from schemas.personal import Sealed
from services.booking.adapters.personal import seal_caller
from services.booking.domain import decider
from services.booking.domain.commands import BookStationSlot, OfficerOnDuty
from services.booking.domain.state import Diary
from services.common.commands import Metadata, outgoing
from services.common.eventstore import Outgoing
from services.common.reference import load_county
from services.common.shredding import KeyStore, open_with, seal_with

ACTOR = "call-taker:bench"
# A backlog books distinct slots up to this many, then books them again (the projections
# do not mind); more would reach past the years that plan_slots looks ahead.
BACKLOG_SLOTS = 20_000


_SUMMARY = (
    "Caller reports that her car was damaged overnight on the driveway: the nearside wing "
    "mirror was snapped off and the paintwork scratched along both doors. A neighbour's "
    "doorbell camera may have captured two people on foot at about 2am. Wants advice on "
    "repairs through insurance and to give a statement."
)
_BACKGROUND = (
    "Third report from this road in a month; previous reference 41/008812/26. Caller works "
    "shifts and can only attend in the evening."
)


def booking_form(slot: PlannedSlot, n: int, run_id: str) -> dict[str, Any]:
    """The JSON a call taker's screen posts to book ``slot`` (the ``n``th booking of a run)."""
    return {
        "day": slot.day.isoformat(),
        "start": slot.start.strftime("%H:%M"),
        "incident_grade": "scheduled",
        "caller": {
            "name": f"Alex Example {n}",
            # Ofcom's drama range: never a real person, accepted outside production.
            "phone": f"+447700900{n % 1000:03d}",
        },
        "briefing": {
            "case_reference": f"41/{n:06d}/26",
            "summary": _SUMMARY,
            "background": _BACKGROUND,
            "vulnerability_flags": ["repeat-victim"],
            "preferred_contact": "sms",
            "language": "en",
            "thrive_risk": "low",
            "safe_to_text": True,
            "safe_to_call": True,
        },
        "request_id": f"bench-{run_id}-{n}",
    }


class _MemoryKeys(KeyStore):
    """A key store without a database: the baselines need sealed values, not stored keys."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}

    async def seal(self, subject_id: str, values: Mapping[str, str]) -> dict[str, Sealed]:
        """Seal under a key made on first use, as the real key store does."""
        key = self._keys.setdefault(subject_id, os.urandom(32))
        return {name: seal_with(key, subject_id, text) for name, text in values.items()}

    async def open(self, sealed: Sealed) -> str | None:
        """The clear value, or None when its subject was erased."""
        key = self._keys.get(sealed.subject_id)
        return None if key is None else open_with(key, sealed)

    async def erase(self, subject_id: str, erased_by: str) -> bool:
        """Forget a subject's key; False when there was none."""
        return self._keys.pop(subject_id, None) is not None


async def slot_booked(
    slot: PlannedSlot,
    form: Mapping[str, Any],
    secret: str,
    now: datetime,
    on_duty: tuple[OfficerOnDuty, ...] | None = None,
    keys: KeyStore | None = None,
) -> Outgoing:
    """The SlotBooked envelope the booking service would store for this form, made without servers."""
    caller, brief = form["caller"], form["briefing"]
    texts = {k: brief[k] for k in ("summary", "background", "vulnerability", "access_needs") if k in brief}
    details, sealed = await seal_caller(
        keys or _MemoryKeys(), name=caller["name"], phone=caller.get("phone"), address=None,
        texts=texts, secret=secret,
    )  # fmt: skip
    briefing = Briefing(
        case_reference=brief["case_reference"],
        summary=sealed["summary"],
        background=sealed.get("background"),
        vulnerability=sealed.get("vulnerability"),
        access_needs=sealed.get("access_needs"),
        vulnerability_flags=tuple(brief["vulnerability_flags"]),
        preferred_contact=brief["preferred_contact"],
        language=brief["language"],
        thrive_risk=brief["thrive_risk"],
        safe_to_text=brief["safe_to_text"],
        safe_to_call=brief["safe_to_call"],
    )
    command = BookStationSlot(
        appointment_id=str(uuid.uuid4()),
        request_id=form["request_id"],
        station_id=slot.station_id,
        day=slot.day,
        start=slot.start,
        incident_grade="scheduled",
        caller=details,
        briefing=briefing,
        on_duty=on_duty,
        now=now,
    )
    diary = Diary("station", slot.station_id, slot.day)
    [event] = decider.decide(command, decider.initial_state(diary, load_county()))
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor=ACTOR, now=now.astimezone(UTC))
    return outgoing(event, diary.stream_id, source_of("booking"), meta)


async def backlog(count: int, run_id: str, secret: str, now: datetime) -> list[Outgoing]:
    """``count`` SlotBooked envelopes, each its own appointment, as booking's relay publishes them."""
    slots = plan_slots(min(count, BACKLOG_SLOTS), now)
    roster = duties(slots, run_id)
    tag = f"{run_id}-backlog"
    return [
        await slot_booked(slot, booking_form(slot, n, tag), secret, now, roster[slot.stream_id].on_duty())
        for n, slot in zip(range(count), itertools.cycle(slots), strict=False)
    ]
