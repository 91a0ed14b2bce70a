"""Properties of the waitlist's rules over any run of joins, frees, lapses, declines and accepts.

A small model drives the domain as the reactor does: a freed day is offered on; a caller who
joins, or whose offer ended, is offered their own days. After every step: nobody holds two
offers, no slot is held twice, nobody is offered a day again that they let lapse or declined,
each offer went to the first caller waiting who could take it, and no slot stays free while a
caller who could take it waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from hypothesis import given as given_any
from hypothesis import settings
from hypothesis import strategies as st

from schemas.booking import AppointmentOffered
from services.booking.domain.calendar import local_date, local_time
from services.booking.domain.capacity import free_slots
from services.booking.domain.commands import CancelAppointment, LapseOffer, OfficerOnDuty
from services.booking.domain.decider import decide, fold
from services.booking.domain.errors import BookingRefused
from services.booking.domain.offers import days_of, offer_day, offer_days
from services.booking.domain.state import DiaryDay, DiaryDayEvent
from services.booking.domain.waitlist import LeaveWaitlist, Waitlist
from services.booking.domain.waitlist import decide as decide_waitlist
from services.booking.domain.waitlist import fold as fold_waitlist
from tests.unit.booking.builders import MONDAY, NOW, book_station, given, hours, join, on_duty, station_day

DAYS = [MONDAY + timedelta(days=n) for n in range(3)]
CALLERS = [f"caller-{n}" for n in range(5)]
HOLD = hours(2)


@dataclass
class Model:
    """Cheshunt's waitlist and three full days, moved on as the reactor would."""

    now: datetime = NOW
    waitlist: Waitlist = field(default_factory=lambda: Waitlist("station", "cheshunt"))
    days: dict[date, DiaryDay] = field(default_factory=dict)
    let_go: set[tuple[str, date]] = field(default_factory=set)
    joined: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for d in DAYS:
            booked = [book_station(f"apt-{d}-{h}", h, day=d, officers=self.roster(d)) for h in (17, 18, 19)]
            self.days[d] = given(station_day(day=d), *booked)

    @staticmethod
    def roster(d: date) -> tuple[OfficerOnDuty, ...]:
        return on_duty("officer-1", day=d)

    def holding(self) -> dict[str, date]:
        return {
            a.appointment_id: d
            for d, day in self.days.items()
            for a in day.appointments
            if a.status == "offered"
        }

    def apply(self, d: date, events: list[DiaryDayEvent]) -> None:
        for event in events:
            if isinstance(event, AppointmentOffered):
                assert event.appointment_id == self.first_who_could_take(d), "not first come, first offered"
            self.days[d] = fold(self.days[d], [event])

    def first_who_could_take(self, d: date) -> str | None:
        """Written apart from the rules: the earliest joiner waiting who could be offered day ``d``."""
        held = self.holding()
        for w in self.waitlist.waiting:
            if (
                w.from_day <= d <= w.to_day
                and w.appointment_id not in held
                and not self.days[d].find(w.appointment_id)
            ):
                return w.appointment_id
        return None

    def offer_on(self, d: date) -> None:
        self.apply(d, offer_day(self.days[d], self.waitlist, self.roster(d), self.now, self.holding(), HOLD))

    def offer_for(self, appointment_id: str) -> None:
        caller = self.waitlist.caller(appointment_id)
        if caller is None:
            return
        wanted = days_of(caller, local_date(self.now))
        made = offer_days(
            [(self.days[d], self.roster(d)) for d in wanted], self.waitlist, self.now, self.holding(), HOLD
        )
        for d, events in zip(wanted, made, strict=True):
            self.apply(d, events)

    def step(self, kind: str, who: int, d: date, hour: int) -> None:
        caller, held = CALLERS[who], self.holding()
        if kind == "join" and caller not in self.joined:
            self.joined.append(caller)
            command = join(caller, min(d, DAYS[-1 - who % 2]), max(d, DAYS[-1 - who % 2]))
            self.waitlist = fold_waitlist(self.waitlist, decide_waitlist(command, self.waitlist))
            self.offer_for(caller)
        elif kind == "free":
            victim = next(
                (
                    a
                    for a in self.days[d].appointments
                    if a.status == "booked" and local_time(a.starts_at) == time(hour)
                ),
                None,
            )
            if victim is not None:
                self.apply(d, decide(cancel(victim.appointment_id, self.now), self.days[d]))
                self.offer_on(d)
        elif kind in ("lapse", "decline") and caller in held:
            on = held[caller]
            if kind == "lapse":
                held_slot = self.days[on].find(caller)
                assert held_slot is not None and held_slot.offer_expires_at is not None
                self.now = max(self.now, held_slot.offer_expires_at)
                ended = decide(LapseOffer(appointment_id=caller, now=self.now), self.days[on])
            else:
                ended = decide(cancel(caller, self.now), self.days[on])
            self.apply(on, ended)
            self.let_go.add((caller, on))
            self.offer_on(on)
            self.offer_for(caller)
        elif kind == "accept" and caller in held:
            on = held[caller]
            slot = self.days[on].find(caller)
            assert slot is not None
            booking = book_station(
                caller, local_time(slot.starts_at).hour, day=on, officers=self.roster(on), now=self.now
            )
            self.apply(on, decide(booking, self.days[on]))
            leave = LeaveWaitlist(appointment_id=caller, booked=True, now=self.now)
            self.waitlist = fold_waitlist(self.waitlist, decide_waitlist(leave, self.waitlist))

    def check(self) -> None:
        offers = [
            a.appointment_id for day in self.days.values() for a in day.appointments if a.status == "offered"
        ]
        assert len(offers) == len(set(offers)), "a caller holds two offers"
        for day in self.days.values():
            starts = [a.starts_at for a in day.holding()]
            assert len(starts) == len(set(starts)), "one slot held twice (Cheshunt has one room)"
        for caller, d in self.let_go:
            again = self.days[d].find(caller)
            assert again is not None and again.status in ("lapsed", "cancelled"), "re-offered a day let go"
        for d, day in self.days.items():
            if free_slots(day, self.now, self.roster(d)):
                assert self.first_who_could_take(d) is None, "a slot left free while a caller who fits waits"


def cancel(appointment_id: str, now: datetime) -> CancelAppointment:
    return CancelAppointment(
        appointment_id=appointment_id, initiated_by="public", reason="duplicate", now=now
    )


STEPS = st.lists(
    st.tuples(
        st.sampled_from(["join", "free", "lapse", "decline", "accept"]),
        st.integers(0, len(CALLERS) - 1),
        st.sampled_from(DAYS),
        st.sampled_from([17, 18, 19]),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given_any(steps=STEPS)
def test_any_run_of_joins_frees_lapses_declines_and_accepts_keeps_the_offers_fair(
    steps: list[tuple[str, int, date, int]],
) -> None:
    model = Model()
    for kind, who, d, hour in steps:
        model.step(kind, who, d, hour)
        model.check()


WAITLIST_STEPS = st.lists(
    st.tuples(st.sampled_from(["join", "leave"]), st.sampled_from(CALLERS[:3])), max_size=12
)


@settings(max_examples=50, deadline=None)
@given_any(steps=WAITLIST_STEPS)
def test_any_joins_and_leaves_keep_each_caller_waiting_at_most_once(steps: list[tuple[str, str]]) -> None:
    state = Waitlist("station", "cheshunt")
    for kind, appointment_id in steps:
        command = (
            join(appointment_id)
            if kind == "join"
            else LeaveWaitlist(appointment_id=appointment_id, booked=False, now=NOW)
        )
        try:
            events = decide_waitlist(command, state)
        except BookingRefused:
            continue
        state = fold_waitlist(state, events)
        assert decide_waitlist(command, state) == []  # decided twice, it changes nothing
        waiting = [w.appointment_id for w in state.waiting]
        assert len(waiting) == len(set(waiting))
        assert not set(waiting) & state.left
