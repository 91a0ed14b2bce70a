"""Who is on appointment duty at a place, net of withdrawals: the roster as people read it."""

from __future__ import annotations

from services.roster.domain.cover import cover_at, net_of
from tests.unit.roster.builders import assign, at, end_duty, given, register, withdraw


def test_net_of_cuts_holes_out_of_a_span() -> None:
    assert net_of((at(17), at(20)), [(at(18), at(19))]) == ((at(17), at(18)), (at(19), at(20)))
    assert net_of((at(17), at(20)), [(at(16), at(21))]) == ()
    assert net_of((at(17), at(20)), [(at(20), at(21))]) == ((at(17), at(20)),)


def test_an_officer_on_appointment_duty_covers_the_station_less_their_withdrawal() -> None:
    officer = given(register(), assign(), withdraw(start=18, end=19))

    [cover] = cover_at(officer, "station", "cheshunt", at(0), at(23))

    assert cover.collar_number == "4127"
    assert cover.duty.duty_id == "duty-1"
    assert cover.available == ((at(17), at(18)), (at(19), at(20)))
    assert [w.withdrawal_id for w in cover.withdrawals] == ["w-1"]


def test_a_duty_ended_early_covers_only_until_it_ended() -> None:
    officer = given(register(), assign(), end_duty(ends_at=at(18)))

    [cover] = cover_at(officer, "station", "cheshunt", at(0), at(23))

    assert cover.available == ((at(17), at(18)),)


def test_other_places_and_duties_are_not_cover() -> None:
    officer = given(
        register(),
        assign("car", 8, 14, duty="diary-car", station=None),
        assign("er", 14, 17, duty="emergency-response", station=None),
        assign("station", 17, 20),
    )

    assert [c.duty.duty_id for c in cover_at(officer, "diary-car", "broxbourne", at(0), at(23))] == ["car"]
    assert [c.duty.duty_id for c in cover_at(officer, "station", "cheshunt", at(0), at(23))] == ["station"]
    assert cover_at(officer, "station", "hitchin", at(0), at(23)) == []
    assert cover_at(officer, "station", "cheshunt", at(20), at(23)) == []
