"""What gets booked: real free station slots, realistic booking forms, and the SlotBooked they make.

Every booking of one run takes its own free slot, so none is refused, and the
slots are ordered so that bookings in flight together fall on different diary
days (different event-store streams) and never race each other. A slot gives
capacity only with an officer on appointment duty, so the run also puts one
officer per station on duty for each planned day, through roster.events as the
roster service would.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schemas.booking import Briefing
from schemas.envelope import source_of
from schemas.personal import Sealed
from schemas.roster import DutyAssigned
from services.booking.adapters.personal import seal_caller
from services.booking.domain import decider
from services.booking.domain.calendar import local_date, local_time
from services.booking.domain.capacity import free_slots
from services.booking.domain.commands import BookStationSlot, OfficerOnDuty
from services.booking.domain.state import Diary
from services.common.commands import Metadata, outgoing
from services.common.eventstore import Outgoing
from services.common.reference import County, load_county
from services.common.shredding import KeyStore, seal_with

# Far enough ahead for any --count: the county offers a few dozen station slots a day.
MAX_DAYS_AHEAD = 3 * 365
ACTOR = "call-taker:bench"


@dataclass(frozen=True)
class PlannedSlot:
    """One free station slot: where, which London day, and its local start time."""

    station_id: str
    day: date
    start: time
    starts_at: datetime
    ends_at: datetime

    @property
    def stream_id(self) -> str:
        """The diary-day stream a booking of this slot appends to."""
        return Diary("station", self.station_id, self.day).stream_id


def plan_slots(count: int, now: datetime, county: County | None = None) -> list[PlannedSlot]:
    """``count`` distinct free station slots from tomorrow on, neighbours on different diary days.

    Computed with the booking domain's own ``free_slots`` on empty days without
    consulting the roster: what a run's fresh database offers once ``duties`` are in.
    """
    county = county or load_county()
    stations = county.appointment_stations()
    by_stream: list[list[PlannedSlot]] = []
    total = 0
    # Tomorrow, so no slot can begin (and turn into a refusal) while the run lasts.
    day = local_date(now) + timedelta(days=1)
    last = day + timedelta(days=MAX_DAYS_AHEAD)
    while total < count:
        if day > last:
            raise ValueError(f"fewer than {count} free station slots in {MAX_DAYS_AHEAD} days")
        for station in stations:
            state = decider.initial_state(Diary("station", station.id, day), county)
            slots = [
                PlannedSlot(station.id, day, local_time(s.starts_at), s.starts_at, s.ends_at)
                for s in free_slots(state, now)
            ]
            if slots:
                by_stream.append(slots)
                total += len(slots)
        day += timedelta(days=1)
    return interleave(by_stream)[:count]


def interleave(groups: list[list[PlannedSlot]]) -> list[PlannedSlot]:
    """Round-robin over the groups: the first of each, then the second of each, and so on."""
    longest = max((len(g) for g in groups), default=0)
    return [g[i] for i in range(longest) for g in groups if i < len(g)]


@dataclass(frozen=True)
class Duty:
    """One officer on appointment duty at a station for a planned day's slots."""

    duty_id: str
    officer_id: str
    station_id: str
    district_id: str
    starts_at: datetime
    ends_at: datetime

    def on_duty(self) -> tuple[OfficerOnDuty, ...]:
        """The roster fact a booking command on this day carries."""
        return (OfficerOnDuty(officer_id=self.officer_id, starts_at=self.starts_at, ends_at=self.ends_at),)


def duties(plan: Sequence[PlannedSlot], run_id: str, county: County | None = None) -> dict[str, Duty]:
    """A duty per planned diary day, from its first slot's start to its last slot's end, by stream id."""
    county = county or load_county()
    spans: dict[str, tuple[PlannedSlot, datetime, datetime]] = {}
    for slot in plan:
        _, first, last = spans.get(slot.stream_id, (slot, slot.starts_at, slot.ends_at))
        spans[slot.stream_id] = (slot, min(first, slot.starts_at), max(last, slot.ends_at))
    return {
        stream: Duty(
            duty_id=f"bench-{run_id}-{stream}",
            # One officer per station, on duty there each planned day.
            officer_id=f"bench-{run_id}-{slot.station_id}",
            station_id=slot.station_id,
            district_id=county.station(slot.station_id).district,
            starts_at=first,
            ends_at=last,
        )
        for stream, (slot, first, last) in spans.items()
    }


def duty_assigned(duty: Duty, now: datetime) -> Outgoing:
    """The DutyAssigned envelope the roster service would publish for ``duty``."""
    event = DutyAssigned(
        officer_id=duty.officer_id,
        duty_id=duty.duty_id,
        duty="appointments",
        station_id=duty.station_id,
        district_id=duty.district_id,
        starts_at=duty.starts_at,
        ends_at=duty.ends_at,
        assigned_at=now,
    )
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor="supervisor:bench", now=now.astimezone(UTC))
    return outgoing(event, f"officer:{duty.officer_id}", source_of("roster"), meta)


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


async def slot_booked(
    slot: PlannedSlot,
    form: Mapping[str, Any],
    secret: str,
    now: datetime,
    on_duty: tuple[OfficerOnDuty, ...] | None = None,
    keys: KeyStore | None = None,
) -> Outgoing:
    """The SlotBooked envelope the booking service would store for this form, made without servers.

    Sealing and the decision run through the service's own code (``seal_caller``,
    the decider, ``outgoing``), so value and headers are the size of the real ones.
    """
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
    [event] = decider.decide(command, decider.initial_state(diary))
    meta = Metadata(correlation_id=str(uuid.uuid4()), actor=ACTOR, now=now.astimezone(UTC))
    return outgoing(event, diary.stream_id, source_of("booking"), meta)
