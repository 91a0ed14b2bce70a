"""What happens to a booked appointment: rescheduled, moved to another day, cancelled,
attended or missed."""

from __future__ import annotations

from datetime import date, time

import pytest

from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentMissed,
    AppointmentMovedOut,
    AppointmentRescheduled,
)
from services.booking.domain.commands import (
    CancelAppointment,
    MoveAppointmentIn,
    MoveAppointmentOut,
    RecordAttendance,
    RecordNoShow,
    RescheduleAppointment,
)
from services.booking.domain.decider import decide, fold
from services.booking.domain.errors import InThePast, Refusal, SlotTaken, UnknownAppointment, WrongStatus
from tests.unit.booking.builders import MONDAY, NOW, at, book_station, given, hours, station_day

TUESDAY = date(2026, 6, 16)


def reschedule(hour: int, by: str = "public") -> RescheduleAppointment:
    return RescheduleAppointment.model_validate(
        {
            "appointment_id": "apt-1",
            "start": time(hour),
            "initiated_by": by,
            "reason": "caller-asked",
            "now": NOW,
        }
    )


def cancel(by: str = "public") -> CancelAppointment:
    return CancelAppointment.model_validate(
        {"appointment_id": "apt-1", "initiated_by": by, "reason": "no-longer-needed", "now": NOW}
    )


class TestGivenABookedAppointment:
    def test_rescheduling_to_a_free_slot_moves_it_within_the_day(self) -> None:
        state = given(station_day(), book_station("apt-1", 17))

        events = decide(reschedule(19), state)

        assert len(events) == 1
        moved = events[0]
        assert isinstance(moved, AppointmentRescheduled)
        assert (moved.from_starts_at, moved.starts_at) == (at(MONDAY, 17), at(MONDAY, 19))
        assert moved.initiated_by == "public"
        assert not moved.caller_to_be_told
        after = fold(state, events).find("apt-1")
        assert after is not None
        assert after.starts_at == at(MONDAY, 19)

    def test_rescheduling_by_the_police_flags_the_caller_to_be_told(self) -> None:
        state = given(station_day(), book_station("apt-1", 17))

        moved = decide(reschedule(19, by="police"), state)[0]

        assert isinstance(moved, AppointmentRescheduled)
        assert moved.caller_to_be_told

    def test_rescheduling_to_the_time_it_already_has_yields_no_events(self) -> None:
        assert decide(reschedule(17), given(station_day(), book_station("apt-1", 17))) == []

    def test_rescheduling_to_a_taken_slot_loses_with_alternatives(self) -> None:
        state = given(station_day(), book_station("apt-1", 17), book_station("apt-2", 18))

        with pytest.raises(SlotTaken) as refused:
            decide(reschedule(18), state)

        # Its own 5pm slot counts as free for it.
        assert [s.starts_at for s in refused.value.alternatives] == [at(MONDAY, 17), at(MONDAY, 19)]

    def test_cancelling_records_who_asked_and_why(self) -> None:
        events = decide(cancel("police"), given(station_day(), book_station("apt-1", 17)))

        assert isinstance(events[0], AppointmentCancelled)
        assert events[0].initiated_by == "police"
        assert events[0].reason == "no-longer-needed"

    def test_cancelling_frees_the_room_for_another_caller(self) -> None:
        state = given(station_day(), book_station("apt-1", 17), cancel())

        assert decide(book_station("apt-2", 17), state)

    def test_attendance_is_recorded_once_the_appointment_has_begun(self) -> None:
        state = given(station_day(), book_station("apt-1", 17))
        command = RecordAttendance(
            appointment_id="apt-1", outcome="crime-recorded", now=at(MONDAY, 17) + hours(0.5)
        )

        events = decide(command, state)

        assert isinstance(events[0], AppointmentAttended)
        assert decide(command, fold(state, events)) == []

    def test_attendance_before_the_appointment_begins_is_refused(self) -> None:
        state = given(station_day(), book_station("apt-1", 17))

        with pytest.raises(Refusal):
            decide(RecordAttendance(appointment_id="apt-1", outcome="advice-given", now=NOW), state)

    def test_a_no_show_says_whose_absence_it_was(self) -> None:
        state = given(station_day(), book_station("apt-1", 17))
        command = RecordNoShow(
            appointment_id="apt-1", missed_by="public", reason="did-not-attend", now=at(MONDAY, 18)
        )

        events = decide(command, state)

        assert isinstance(events[0], AppointmentMissed)
        assert events[0].missed_by == "public"

    def test_an_unknown_appointment_is_not_found(self) -> None:
        with pytest.raises(UnknownAppointment) as refused:
            decide(cancel(), given(station_day()))

        assert refused.value.field == "appointment_id"
        assert refused.value.reason == "no appointment apt-1 on this day"


class TestGivenACancelledAppointment:
    def test_cancelling_again_yields_no_events(self) -> None:
        assert decide(cancel(), given(station_day(), book_station("apt-1", 17), cancel())) == []

    def test_it_cannot_be_rescheduled(self) -> None:
        with pytest.raises(WrongStatus):
            decide(reschedule(18), given(station_day(), book_station("apt-1", 17), cancel()))


class TestGivenAnAttendedAppointment:
    def test_it_cannot_be_cancelled(self) -> None:
        attended = RecordAttendance(appointment_id="apt-1", outcome="referred", now=at(MONDAY, 18))
        state = given(station_day(), book_station("apt-1", 17), attended)

        with pytest.raises(WrongStatus) as refused:
            decide(cancel(), state)

        assert refused.value.reason == "appointment apt-1 is attended"


class TestMovingAnAppointmentToAnotherDay:
    def move_in(self, hour: int = 18) -> MoveAppointmentIn:
        return MoveAppointmentIn(
            appointment_id="apt-1",
            from_stream="station:cheshunt:2026-06-15",
            from_starts_at=at(MONDAY, 17),
            from_ends_at=at(MONDAY, 18),
            start=time(hour),
            initiated_by="public",
            reason="caller-asked",
            now=NOW,
        )

    def move_out(self) -> MoveAppointmentOut:
        return MoveAppointmentOut(
            appointment_id="apt-1",
            to_stream="station:cheshunt:2026-06-16",
            to_starts_at=at(TUESDAY, 18),
            initiated_by="public",
            reason="caller-asked",
            now=NOW,
        )

    def test_the_new_day_claims_the_time_with_an_appointment_rescheduled(self) -> None:
        events = decide(self.move_in(), given(station_day(day=TUESDAY)))

        moved = events[0]
        assert isinstance(moved, AppointmentRescheduled)
        assert moved.diary == "station:cheshunt:2026-06-16"
        assert moved.from_diary == "station:cheshunt:2026-06-15"
        assert moved.starts_at == at(TUESDAY, 18)

    def test_claiming_twice_yields_no_events(self) -> None:
        assert decide(self.move_in(), given(station_day(day=TUESDAY), self.move_in())) == []

    def test_the_old_day_then_frees_its_room(self) -> None:
        state = given(station_day(), book_station("apt-1", 17))

        events = decide(self.move_out(), state)

        assert isinstance(events[0], AppointmentMovedOut)
        after = fold(state, events)
        assert decide(book_station("apt-2", 17), after)
        assert decide(self.move_out(), after) == []

    def test_a_new_time_in_the_past_is_refused(self) -> None:
        late = self.move_in().model_copy(update={"now": at(TUESDAY, 19)})

        with pytest.raises(InThePast):
            decide(late, given(station_day(day=TUESDAY)))
