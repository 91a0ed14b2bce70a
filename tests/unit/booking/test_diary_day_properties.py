"""Properties of a diary day under any sequence of bookings, reschedules, cancellations,
duties and withdrawals: no room or officer is ever double booked, every appointment
has exactly one state, and a command already satisfied yields no events."""

from __future__ import annotations

from datetime import time

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.booking.domain.commands import (
    CancelAppointment,
    Command,
    CoverWithdrawal,
    RescheduleAppointment,
)
from services.booking.domain.decider import decide, fold
from services.booking.domain.errors import BookingRefused
from services.booking.domain.state import DiaryDay
from services.common.reference import DiaryCar
from tests.unit.booking.builders import (
    COUNTY,
    MONDAY,
    NOW,
    at,
    book_station,
    book_visit,
    diary_car_day,
    on_duty,
)
from tests.unit.booking.test_officers_on_duty import two_room_day

APPOINTMENTS = st.sampled_from([f"apt-{n}" for n in range(6)])
TIMES = st.integers(min_value=0, max_value=3)
OFFICERS = ("pc-101", "pc-102", "pc-103")


def two_visit_car_day() -> DiaryDay:
    """Dacorum's diary car taking two visits a window, so places and officers both run out."""
    district = COUNTY.district("dacorum")
    car = district.diary_car.model_copy(update={"visits_per_window": 2})
    return DiaryDay(diary_car_day(), car, district.model_copy(update={"diary_car": car}), None)


class StationDayMachine(RuleBasedStateMachine):
    # Local hours the rules pick from; the last is outside opening hours.
    HOURS: tuple[int, ...] = (17, 18, 19, 20)
    OPENS, CLOSES = 17, 20
    ROSTERED: frozenset[str] = frozenset({"pc-101", "pc-102"})

    def __init__(self) -> None:
        super().__init__()
        self.state: DiaryDay = self.empty_day()
        self.rostered: set[str] = set(self.ROSTERED)
        self.withdrawals = 0

    def empty_day(self) -> DiaryDay:
        return two_room_day()

    def booking(self, appointment_id: str, hour: int) -> Command:
        return book_station(appointment_id, hour, officers=on_duty(*sorted(self.rostered)))

    def apply(self, command: Command) -> None:
        try:
            events = decide(command, self.state)
        except BookingRefused:
            return
        self.state = fold(self.state, events)
        # Already satisfied now: the same command again changes nothing.
        if not isinstance(command, CoverWithdrawal):
            assert decide(command, self.state) == []

    @rule(appointment_id=APPOINTMENTS, at_time=TIMES)
    def book(self, appointment_id: str, at_time: int) -> None:
        self.apply(self.booking(appointment_id, self.HOURS[at_time]))

    @rule(appointment_id=APPOINTMENTS, at_time=TIMES, by=st.sampled_from(["police", "public"]))
    def reschedule(self, appointment_id: str, at_time: int, by: str) -> None:
        self.apply(
            RescheduleAppointment.model_validate(
                {
                    "appointment_id": appointment_id,
                    "start": time(self.HOURS[at_time]),
                    "initiated_by": by,
                    "reason": "caller-asked",
                    "on_duty": on_duty(*sorted(self.rostered)),
                    "now": NOW,
                }
            )
        )

    @rule(appointment_id=APPOINTMENTS)
    def cancel(self, appointment_id: str) -> None:
        self.apply(
            CancelAppointment(appointment_id=appointment_id, initiated_by="public", reason="other", now=NOW)
        )

    @rule(officer=st.sampled_from(OFFICERS))
    def assign_duty(self, officer: str) -> None:
        self.rostered.add(officer)

    @rule(officer=st.sampled_from(OFFICERS))
    def withdraw(self, officer: str) -> None:
        self.rostered.discard(officer)
        self.withdrawals += 1
        self.apply(
            CoverWithdrawal(
                withdrawal_id=f"w-{self.withdrawals}",
                officer_id=officer,
                starts_at=at(MONDAY, 0),
                ends_at=at(MONDAY, 23),
                reason="officer-withdrawn",
                on_duty=on_duty(*sorted(self.rostered)),
                now=NOW,
            )
        )

    @invariant()
    def no_room_or_diary_car_place_is_overbooked(self) -> None:
        holding = list(self.state.holding())
        for a in holding:
            together = [b for b in holding if b.overlaps(a.starts_at, a.ends_at)]
            if isinstance(self.state.place, DiaryCar):
                assert len(together) <= self.state.place.visits_per_window
            else:
                assert len({b.room_id for b in together}) == len(together)

    @invariant()
    def no_officer_is_double_booked(self) -> None:
        holding = list(self.state.holding())
        for a in holding:
            for b in holding:
                if a is not b and a.overlaps(b.starts_at, b.ends_at):
                    assert a.officer_id != b.officer_id

    @invariant()
    def every_appointment_has_exactly_one_state(self) -> None:
        ids = [a.appointment_id for a in self.state.appointments]
        assert len(ids) == len(set(ids))

    @invariant()
    def no_booked_appointment_keeps_a_withdrawn_officer(self) -> None:
        for a in self.state.holding():
            assert a.officer_id in self.rostered

    @invariant()
    def every_held_slot_is_within_opening_hours(self) -> None:
        for a in self.state.holding():
            assert at(MONDAY, self.OPENS) <= a.starts_at < at(MONDAY, self.CLOSES)


class DiaryCarDayMachine(StationDayMachine):
    HOURS = (8, 12, 18, 9)  # 9am is not a window start
    OPENS, CLOSES = 8, 20
    # More officers than places, so the places are what run out.
    ROSTERED = frozenset(OFFICERS)

    def empty_day(self) -> DiaryDay:
        return two_visit_car_day()

    def booking(self, appointment_id: str, hour: int) -> Command:
        return book_visit(appointment_id, hour, officers=on_duty(*sorted(self.rostered)))


FAST = settings(
    max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
StationDayMachine.TestCase.settings = FAST
DiaryCarDayMachine.TestCase.settings = FAST
TestAStationDay = StationDayMachine.TestCase
TestADiaryCarDay = DiaryCarDayMachine.TestCase
