"""Use of capacity's pure parts: the places a district offered (booking's own rule on each day
empty) and the places used (appointments now on those days, not cancelled).

May 2028 (BST: 17:00 in London is 16:00 UTC). Stevenage station is given a second room so that
the officers on duty, not the rooms, can be what limits a slot; its one slot hours are 17:00 to
20:00 (three slots) Sunday to Thursday, its diary car's windows two hours from 08:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.booking.adapters.roster_facts import Withdrawn
from services.common.reference import County, Room, load_county
from services.projections.domain.availability import Duty
from services.projections.domain.kpis import (
    District,
    Row,
    district_places,
    offered_places,
    summarise,
)
from tests.unit.projections.test_kpis import attended, cancelled, line_of, rescheduled, station_booked

TUE, WED = date(2028, 5, 9), date(2028, 5, 10)  # ISO week 2028-W19
BANK_HOLIDAY = date(2028, 5, 29)  # Spring bank holiday, a Monday: Stevenage station opens, its car does not


def utc(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def document(go_live: date | None = None) -> dict[str, Any]:
    """The county as booking publishes it, Stevenage with two rooms (and another go-live, if given)."""
    county = load_county()
    stations = tuple(
        s.model_copy(update={"rooms": (*s.rooms, Room(id="stevenage-room-2", name="Room 2"))})
        if s.id == "stevenage"
        else s
        for s in county.stations
    )
    districts = tuple(
        d.model_copy(update={"scheduled_appointments_from": go_live})
        if go_live and d.id == "stevenage"
        else d
        for d in county.districts
    )
    return county.model_copy(update={"stations": stations, "districts": districts}).model_dump(mode="json")


def stevenage(go_live: date | None = None) -> County:
    part = district_places(document(go_live), "stevenage")
    assert part is not None
    return County.model_validate(part)


def duty(officer: str, day: date, start: int, end: int, car: bool = False) -> Duty:
    kind, station = ("diary-car", None) if car else ("appointments", "stevenage")
    return Duty(f"d-{officer}-{day}", officer, kind, station, "stevenage", utc(day, start), utc(day, end))


def test_a_districts_places_are_its_own_part_of_the_county_and_a_part_booking_could_not_read_is_none() -> (
    None
):
    part = district_places(document(), "stevenage")
    assert part is not None
    assert [d["id"] for d in part["districts"]] == ["stevenage"]
    assert [s["id"] for s in part["stations"]] == ["stevenage"]  # its one station
    assert [r["id"] for r in part["stations"][0]["rooms"]] == ["stevenage-room-1", "stevenage-room-2"]
    # A document naming districts only (no diary car, no stations) offers nothing to count from.
    assert district_places({"districts": [{"id": "stevenage", "name": "S"}]}, "stevenage") is None


def test_a_slot_offers_as_many_places_as_rooms_and_officers_on_duty_both_allow() -> None:
    # Two rooms; o-1 on duty the three slots, o-2 the first two: 2 + 2 + 1 at the station. The diary
    # car's officer for 08:00 to 12:00 London gives its two windows a visit each. Wednesday: one
    # officer whose duty covers only half of the 17:00 slot, so the two later slots alone.
    from_half_past = utc(WED, 16) + timedelta(minutes=30)
    half_past = Duty("d-o-3", "o-3", "appointments", "stevenage", "stevenage", from_half_past, utc(WED, 19))
    duties = [
        duty("o-1", TUE, 16, 19),
        duty("o-2", TUE, 16, 18),
        duty("o-9", TUE, 7, 11, car=True),
        half_past,
    ]
    offered = offered_places(stevenage(), "stevenage", TUE, WED + timedelta(days=1), duties, [])
    assert offered == {("stevenage", TUE): 5 + 2, ("stevenage", WED): 2}  # Thursday: nobody, nothing


def test_a_withdrawal_takes_its_hours_out_and_rooms_alone_offer_nothing() -> None:
    duties = [duty("o-1", TUE, 16, 19), duty("o-2", TUE, 16, 18)]
    # o-1 withdrawn for the 18:00 slot (17:00 UTC): 2, 1 (o-2 alone), 1 (o-1 again).
    withdrawn = [Withdrawn("o-1", utc(TUE, 17), utc(TUE, 18))]
    assert offered_places(stevenage(), "stevenage", TUE, TUE, duties, withdrawn) == {("stevenage", TUE): 4}
    # Withdrawn all evening, both: the rooms are there, nobody to see anyone.
    everyone = [Withdrawn(o, utc(TUE, 0), utc(TUE, 23)) for o in ("o-1", "o-2")]
    assert offered_places(stevenage(), "stevenage", TUE, TUE, duties, everyone) == {}


def test_a_day_booking_does_not_open_offers_nothing_whoever_is_on_duty() -> None:
    # Before the district's go-live (a later date in the version counted from) nothing is offered.
    duties = [duty("o-1", TUE, 16, 19), duty("o-9", TUE, 7, 11, car=True)]
    assert offered_places(stevenage(go_live=WED), "stevenage", TUE, TUE, duties, []) == {}
    # On a bank holiday the station (open on them) offers its slots; the diary car (not) none.
    holiday = [duty("o-1", BANK_HOLIDAY, 16, 19), duty("o-9", BANK_HOLIDAY, 7, 11, car=True)]
    assert offered_places(stevenage(), "stevenage", BANK_HOLIDAY, BANK_HOLIDAY, holiday, []) == {
        ("stevenage", BANK_HOLIDAY): 3
    }


def figures(rows: list[Row], district: str, period: str, week: str | None = None) -> tuple[Any, ...]:
    (row,) = [r for r in rows if (r.district_id, r.period, r.week) == (district, period, week)]
    flat = row.flat()
    return flat["capacity_offered"], flat["capacity_used"], flat["capacity_use"]


def test_places_used_are_appointments_now_on_the_days_not_cancelled_wherever_first_booked() -> None:
    call = utc(TUE, 9) - timedelta(days=7)
    nxt = TUE + timedelta(days=7)  # 2028-W20
    lines = [
        line_of(station_booked("a", "stevenage", "stevenage", TUE, 16, call), attended("a", utc(TUE, 16))),
        line_of(station_booked("b", "stevenage", "stevenage", TUE, 17, call)),  # still to come
        # Booked then cancelled: the place is offered and unused.
        line_of(station_booked("c", "stevenage", "stevenage", TUE, 18, call),
                cancelled("c", utc(TUE, 18), "public")),
        # First booked for the next week, moved to this Wednesday: used here, booked there.
        line_of(station_booked("d", "stevenage", "stevenage", nxt, 16, call),
                rescheduled("d", utc(nxt, 16), utc(WED, 17), "police")),
        # Dacorum's appointment, counted in Dacorum's and the county's use.
        line_of(station_booked("e", "hemel-hempstead", "dacorum", TUE, 17, call)),
    ]  # fmt: skip
    offered = {("stevenage", TUE): 7, ("stevenage", WED): 2, ("stevenage", nxt): 3, ("dacorum", TUE): 3}
    districts = [District("stevenage", "Stevenage", WED), District("dacorum", "Dacorum", date(2014, 11, 3))]
    rows = summarise([line for line in lines if line is not None], {}, districts, TUE, nxt, offered=offered)
    assert figures(rows, "stevenage", "week", "2028-W19") == (9, 3, 0.33)  # a, b and d of 7 + 2
    assert figures(rows, "stevenage", "week", "2028-W20") == (3, 0, 0.0)  # d moved away from it
    assert figures(rows, "stevenage", "before-go-live") == (7, 2, 0.29)  # Tuesday: a and b
    assert figures(rows, "stevenage", "after-go-live") == (5, 1, 0.2)
    assert figures(rows, "dacorum", "week", "2028-W19") == (3, 1, 0.33)
    assert figures(rows, "county", "week", "2028-W19") == (12, 4, 0.33)
    # Booked still counts by the week first booked for: d in W20, where it is used no more.
    (w20,) = [r for r in rows if (r.district_id, r.week) == ("stevenage", "2028-W20")]
    assert w20.figures.booked == 1
    # One district alone: its rows only; nothing offered and nothing used reads None, not 0 %.
    alone = summarise([], {}, districts, TUE, TUE, only="dacorum", offered=offered)
    assert [r.flat()["capacity_offered"] for r in alone] == [3, 3]
    assert summarise([], {}, districts, WED, WED, only="dacorum")[0].flat()["capacity_use"] is None
