"""What a run books: the slots and forms, the day range free slots are asked for, the duties, the events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bench.forms import booking_form, slot_booked
from bench.freeslots import DAYS
from bench.workload import Duty, PlannedSlot, duties, duty_assigned, plan_slots, station_days
from services.common.eventstore import Outgoing

Booking = tuple[PlannedSlot, dict[str, Any]]


@dataclass(frozen=True)
class Plan:
    """The run's bookings (warm-up, then measured), the free-slots days, and who is on duty when.

    ``events`` are the SlotBooked the bookings would store: baselines A and B send and
    append them, and the big store is filled with copies of them.
    """

    warm: list[Booking]
    measured: list[Booking]
    free_slot_days: list[PlannedSlot]
    roster: dict[str, Duty]
    events: list[Outgoing]

    @property
    def slots(self) -> list[PlannedSlot]:
        """Every slot the path books, warm-up first."""
        return [slot for slot, _ in (*self.warm, *self.measured)]

    @property
    def free_slot_station(self) -> tuple[str, date]:
        """The station, and the first of the days, that free slots are asked for."""
        first = self.free_slot_days[0]
        return first.station_id, first.day

    def on_duty(self, now: datetime) -> list[Outgoing]:
        """The DutyAssigned records that give every planned slot (and free-slots day) its officer."""
        return [duty_assigned(d, now) for d in self.roster.values()]


async def make_plan(run_id: str, secret: str, now: datetime, warmup: int, count: int) -> Plan:
    """Plan ``warmup + count`` bookings from tomorrow on, and 28 days at the first one's station.

    Free slots are asked of the station and day the plan starts with, every one of the 28 days
    on duty. Every other slot of those days is kept out of the plan, so that once the path ran
    the days are part booked, as a call taker finds them, and the answers are not empty.
    """
    first = plan_slots(1, now)[0]
    days = station_days(first.station_id, first.day, DAYS, now)
    kept_free = {(s.station_id, s.starts_at) for s in days[1::2]}
    candidates = plan_slots(warmup + count + len(kept_free), now)
    slots = [s for s in candidates if (s.station_id, s.starts_at) not in kept_free][: warmup + count]
    forms = [booking_form(slot, n, run_id) for n, slot in enumerate(slots)]
    roster = duties([*slots, *days], run_id)
    events = [
        await slot_booked(slot, form, secret, now, roster[slot.stream_id].on_duty())
        for slot, form in zip(slots, forms, strict=True)
    ]
    pairs = list(zip(slots, forms, strict=True))
    return Plan(pairs[:warmup], pairs[warmup:], days, roster, events)
