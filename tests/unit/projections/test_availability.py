"""Availability's pure parts: booking's own rule over the county, the roster and the diary.

Tuesday 9 May 2028 (BST: 17:00 in London is 16:00 UTC). Stevenage is given a second room here
so that a slot can take two appointments and the officers on duty, not the rooms, can be what
limits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from services.booking.adapters.roster_facts import DutySpan, Withdrawn, day_bounds, on_duty_for
from services.booking.domain.capacity import free_slots
from services.common.reference import County, Room, load_county
from services.projections.domain.availability import (
    Booked,
    Duty,
    PlaceDay,
    availability,
    day_state,
    earliest,
    earliest_anywhere,
    place_day,
    places,
)

DAY = date(2028, 5, 9)
NOW = datetime(2028, 5, 1, 9, tzinfo=UTC)


def utc(hour: int, day: int = 9) -> datetime:
    return datetime(2028, 5, day, hour, tzinfo=UTC)


def two_rooms() -> County:
    county = load_county()
    stations = tuple(
        s.model_copy(update={"rooms": (*s.rooms, Room(id="stevenage-room-2", name="Room 2"))})
        if s.id == "stevenage"
        else s
        for s in county.stations
    )
    return county.model_copy(update={"stations": stations})


def duty(officer: str, start: int, end: int, station: str | None = "stevenage", day: int = 9) -> Duty:
    kind = "appointments" if station else "diary-car"
    return Duty(f"d-{officer}", officer, kind, station, "stevenage", utc(start, day), utc(end, day))


def booked(
    a: str, hour: int, officer: str, room: str | None = "stevenage-room-1", status: str = "booked"
) -> Booked:
    place, end = ("station", hour + 1) if room else ("diary-car", hour + 2)
    return Booked(a, place, "stevenage", DAY, utc(hour), utc(end), room, officer, status)


def stevenage(
    county: County,
    held: list[Booked],
    duties: list[Duty],
    withdrawn: Sequence[Withdrawn] = (),
    now: datetime = NOW,
) -> PlaceDay:
    return place_day(
        county, ("station", "stevenage"), "Stevenage station", "stevenage", DAY, held, duties, withdrawn, now
    )


def free(day: PlaceDay) -> dict[int, int]:
    return {s.starts_at.hour: s.free for s in day.slots}


def test_a_slot_takes_as_many_more_as_rooms_and_officers_on_duty_both_allow() -> None:
    county = two_rooms()
    duties = [duty("o-1", 16, 19), duty("o-2", 16, 19)]
    # Two rooms, two officers: two a slot; one booked at 17:00 leaves one.
    assert free(stevenage(county, [booked("a", 16, "o-1")], duties)) == {16: 1, 17: 2, 18: 2}
    # One officer for the last hour only: the rooms are not what limits it.
    assert free(stevenage(county, [], [duty("o-1", 16, 19), duty("o-2", 16, 18)])) == {16: 2, 17: 2, 18: 1}
    # One room (the county as seeded): one a slot at most.
    assert free(stevenage(load_county(), [], duties)) == {16: 1, 17: 1, 18: 1}
    # Nobody on duty: no capacity at all, however many rooms.
    assert free(stevenage(county, [], [])) == {16: 0, 17: 0, 18: 0}


def test_a_withdrawal_cuts_its_span_out_of_the_officers_duty_and_other_places_duties_give_nothing() -> None:
    county = two_rooms()
    duties = [duty("o-1", 16, 19), duty("o-2", 16, 19), duty("o-3", 16, 19, station="hitchin")]
    cut = [Withdrawn("o-2", utc(17), utc(18))]
    assert free(stevenage(county, [], duties, cut)) == {16: 2, 17: 1, 18: 2}


def test_only_appointments_that_hold_a_room_and_an_officer_take_capacity() -> None:
    county = load_county()
    duties = [duty("o-1", 16, 19)]
    for status, taken in (
        ("booked", True), ("rescheduled", True), ("offered", True), ("attended", True),
        ("missed-by-public", True), ("cancelled", False), ("lapsed", False), ("awaiting-reschedule", False),
    ):  # fmt: skip
        assert free(stevenage(county, [booked("a", 16, "o-1", status=status)], duties))[16] == (
            0 if taken else 1
        ), status


def test_the_slots_with_room_are_exactly_those_booking_offers() -> None:
    county = two_rooms()
    scenarios = [
        (
            [booked("a", 16, "o-1"), booked("b", 16, "o-2", room="stevenage-room-2")],
            [duty("o-1", 16, 19), duty("o-2", 16, 19)],
            [],
        ),
        ([booked("a", 17, "o-1")], [duty("o-1", 16, 19)], [Withdrawn("o-1", utc(18), utc(19))]),
        ([], [duty("o-1", 15, 17), duty("o-2", 17, 20)], [Withdrawn("o-2", utc(16), utc(18))]),
    ]
    for held, duties, cut in scenarios:
        shown = stevenage(county, held, duties, cut)
        state = day_state(county, ("station", "stevenage"), DAY, held)
        spans = [DutySpan(d.officer_id, d.starts_at, d.ends_at) for d in duties]
        offered = free_slots(state, NOW, on_duty_for(day_bounds(DAY), spans, cut))
        assert [s.starts_at for s in shown.slots if s.free] == [s.starts_at for s in offered]


def test_a_diary_car_takes_a_visit_a_window_while_an_officer_is_on_it() -> None:
    county = load_county()
    car = place_day(
        county, ("diary-car", "stevenage"), "Stevenage diary car", "stevenage", DAY,
        [booked("v", 7, "o-9", room=None)], [duty("o-9", 7, 13, station=None)], [], NOW,
    )  # fmt: skip
    # Windows from 8am London (07:00 UTC), two hours each: the first is booked.
    assert free(car) == {7: 0, 9: 1, 11: 1, 13: 0, 15: 0, 17: 0}


def test_a_day_the_place_takes_no_appointments_says_why_in_bookings_words() -> None:
    county = load_county()
    hertford = place_day(
        county, ("station", "hertford"), "Hertford station", "east-hertfordshire", DAY, [], [], [], NOW
    )
    assert hertford.slots == () and hertford.closed == "Hertford station takes no appointments on Tuesdays"
    bank_holiday = date(2028, 5, 1)
    closed = place_day(
        county, ("station", "borehamwood"), "Borehamwood station", "hertsmere", bank_holiday, [], [], [], NOW
    )
    assert closed.closed is not None and "bank holidays" in closed.closed


def test_a_slot_that_has_begun_is_offered_no_more() -> None:
    shown = stevenage(load_county(), [], [duty("o-1", 16, 19)], now=utc(16).replace(minute=30))
    assert free(shown) == {17: 1, 18: 1}


def test_the_earliest_free_slot_of_a_district_and_of_the_county() -> None:
    county = load_county()
    duties = [
        duty("o-1", 18, 19),  # Stevenage 19:00 London on the 9th
        Duty("d-o-2", "o-2", "appointments", "hitchin", "north-hertfordshire", utc(16, 10), utc(19, 10)),
        Duty("d-o-3", "o-3", "appointments", "watford", "watford", utc(17), utc(18)),  # 18:00 on the 9th
    ]
    days = availability(county, DAY, date(2028, 5, 10), [], duties, [], NOW)
    assert {p for p, _, _ in places(county)} == {(d.place, d.place_id) for d in days}
    found = earliest(days, "stevenage")
    assert found.day is not None and found.slot is not None
    assert (found.day.place, found.day.place_id, found.slot.starts_at) == ("station", "stevenage", utc(18))
    county_wide = earliest(days)
    assert county_wide.day is not None and county_wide.slot is not None
    assert (county_wide.day.place_id, county_wide.slot.starts_at) == ("watford", utc(17))
    # A day at a time, the same answer (and with nothing free, none).
    assert earliest_anywhere(county, DAY, date(2028, 5, 10), [], duties, [], NOW) == county_wide
    assert earliest_anywhere(county, DAY, date(2028, 5, 10), [], [], [], NOW).slot is None
    north = earliest(days, "north-hertfordshire")
    assert north.day is not None and north.slot is not None and north.slot.starts_at == utc(16, 10)
    assert earliest(days, "dacorum") == type(found)("dacorum", None, None)
    # One district's places alone.
    mine = availability(county, DAY, DAY, [], duties, [], NOW, "stevenage")
    assert {(d.place, d.place_id) for d in mine} == {("station", "stevenage"), ("diary-car", "stevenage")}
