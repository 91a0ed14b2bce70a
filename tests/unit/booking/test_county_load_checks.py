"""A county load is checked as a whole: one call cannot put a broken county in force."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from pydantic import ValidationError

from services.booking.domain.county_checks import CountyRefused, Problem, problems
from services.booking.domain.reference import LoadCounty, decide, fold, initial_state
from services.common.reference import County, District, OpeningHours, Room, Station, Window
from tests.unit.booking.builders import COUNTY, NOW, hours

TODAY = NOW.date()


def station(station_id: str) -> tuple[int, Station]:
    """The index of a station in the reviewed county, and the station."""
    return next((i, s) for i, s in enumerate(COUNTY.stations) if s.id == station_id)


def district(district_id: str) -> tuple[int, District]:
    """The index of a district in the reviewed county, and the district."""
    return next((i, d) for i, d in enumerate(COUNTY.districts) if d.id == district_id)


def with_station(station_id: str, **changes: Any) -> County:
    """The reviewed county with one station changed."""
    i, found = station(station_id)
    stations = list(COUNTY.stations)
    stations[i] = found.model_copy(update=changes)
    return COUNTY.model_copy(update={"stations": tuple(stations)})


def with_diary_car(district_id: str, **changes: Any) -> County:
    """The reviewed county with one district's diary car changed."""
    k, found = district(district_id)
    districts = list(COUNTY.districts)
    districts[k] = found.model_copy(update={"diary_car": found.diary_car.model_copy(update=changes)})
    return COUNTY.model_copy(update={"districts": tuple(districts)})


def with_district(district_id: str, **changes: Any) -> County:
    """The reviewed county with one district changed."""
    k, found = district(district_id)
    districts = list(COUNTY.districts)
    districts[k] = found.model_copy(update=changes)
    return COUNTY.model_copy(update={"districts": tuple(districts)})


class TestTheReviewedCounty:
    def test_is_whole(self) -> None:
        assert problems(COUNTY, TODAY) == []

    def test_is_recorded_when_loaded(self) -> None:
        assert len(decide(LoadCounty(COUNTY, NOW), initial_state())) == 1


class TestAnEmptyCounty:
    def test_is_refused_for_its_districts_and_its_stations(self) -> None:
        empty = COUNTY.model_copy(update={"districts": (), "stations": ()})

        with pytest.raises(CountyRefused) as refused:
            decide(LoadCounty(empty, NOW), initial_state())

        assert [p.field for p in refused.value.problems] == ["districts", "stations"]
        assert all("empty county" in p.reason for p in refused.value.problems)

    def test_stations_none_of_which_offers_appointments_are_refused_too(self) -> None:
        without_rooms = COUNTY.model_copy(
            update={
                "stations": tuple(
                    s.model_copy(update={"rooms": (), "appointment_days": ()}) for s in COUNTY.stations
                )
            }
        )
        assert [p.field for p in problems(without_rooms, TODAY)] == ["stations"]


class TestEveryStationHasItsRoomsAndHours:
    def test_rooms_without_days_are_refused(self) -> None:
        i, _ = station("hertford")
        assert problems(with_station("hertford", appointment_days=()), TODAY) == [
            Problem(f"stations.{i}.appointment_days", "Hertford station has appointment rooms but no days")
        ]

    def test_days_without_a_room_are_refused(self) -> None:
        i, _ = station("hertford")
        assert [p.field for p in problems(with_station("hertford", rooms=()), TODAY)] == [
            f"stations.{i}.rooms"
        ]

    def test_a_day_without_opening_hours_is_refused_naming_the_day(self) -> None:
        i, found = station("cheshunt")
        weekdays_only = found.opening_hours[:1]  # Sunday to Thursday; Friday and Saturday gone

        found_problems = problems(with_station("cheshunt", opening_hours=weekdays_only), TODAY)

        assert [p.field for p in found_problems] == [f"stations.{i}.opening_hours"] * 2
        assert [p.reason for p in found_problems] == [
            "Cheshunt station has no opening hours on Fridays",
            "Cheshunt station has no opening hours on Saturdays",
        ]

    def test_two_sets_of_hours_for_one_day_are_refused(self) -> None:
        _, found = station("cheshunt")
        clash = OpeningHours(days=("monday",), first_slot=time(9), closes=time(12))

        found_problems = problems(
            with_station("cheshunt", opening_hours=(*found.opening_hours, clash)), TODAY
        )

        assert [p.reason for p in found_problems] == [
            "Cheshunt station has 2 sets of opening hours on Mondays"
        ]

    def test_hours_too_short_for_a_single_slot_are_refused(self) -> None:
        i, found = station("cheshunt")
        short = found.opening_hours[0].model_copy(update={"first_slot": time(19), "closes": time(19, 30)})

        found_problems = problems(
            with_station("cheshunt", opening_hours=(short, found.opening_hours[1])), TODAY
        )

        assert found_problems == [
            Problem(f"stations.{i}.opening_hours.0", "no 60-minute slot fits from 7pm to 7:30pm")
        ]

    def test_a_room_id_twice_in_a_station_is_refused(self) -> None:
        i, _ = station("watford")
        rooms = (Room(id="watford-room-1", name="One"), Room(id="watford-room-1", name="Two"))
        assert [p.field for p in problems(with_station("watford", rooms=rooms), TODAY)] == [
            f"stations.{i}.rooms.1.id"
        ]

    def test_a_station_without_appointments_needs_neither(self) -> None:
        _, tring = station("tring")
        assert not tring.offers_appointments and problems(COUNTY, TODAY) == []


class TestEveryDistrictHasItsDiaryCar:
    def test_a_diary_car_of_another_district_is_refused(self) -> None:
        k, _ = district("dacorum")
        found = problems(with_diary_car("dacorum", district="watford"), TODAY)
        assert found == [
            Problem(f"districts.{k}.diary_car.district", "Dacorum's diary car must be its own, not watford's")
        ]

    def test_a_diary_car_that_never_runs_is_refused(self) -> None:
        k, _ = district("watford")
        found = problems(with_diary_car("watford", days=(), windows=(), visits_per_window=0), TODAY)
        assert [p.field for p in found] == [
            f"districts.{k}.diary_car.days",
            f"districts.{k}.diary_car.windows",
            f"districts.{k}.diary_car.visits_per_window",
        ]

    def test_overlapping_or_backward_windows_are_refused(self) -> None:
        k, _ = district("watford")
        windows = (
            Window(start=time(8), end=time(10)),
            Window(start=time(9), end=time(11)),
            Window(start=time(14), end=time(13)),
        )

        found = problems(with_diary_car("watford", windows=windows), TODAY)

        assert found == [
            Problem(f"districts.{k}.diary_car.windows.2", "a window must end after it starts"),
            Problem(
                f"districts.{k}.diary_car.windows",
                "Watford diary car's windows overlap: 8am to 10am and 9am to 11am",
            ),
        ]

    def test_two_districts_with_one_diary_car_id_are_refused(self) -> None:
        k, _ = district("watford")
        found = problems(with_diary_car("watford", id="dacorum-diary-car"), TODAY)
        assert Problem(f"districts.{k}.diary_car.id", "diary car id dacorum-diary-car appears twice") in found


class TestIdsAndDates:
    def test_an_id_that_cannot_be_part_of_a_stream_id_is_refused(self) -> None:
        i, _ = station("hitchin")
        found = problems(with_station("hitchin", id="hitchin:north"), TODAY)
        assert [p.field for p in found] == [f"stations.{i}.id"]
        assert "lower-case letters and digits joined by single hyphens" in found[0].reason

    @pytest.mark.parametrize("typed", [date(215, 3, 9), date(1915, 3, 9), date(2205, 3, 9)])
    def test_a_go_live_date_that_is_a_typing_slip_is_refused(self, typed: date) -> None:
        k, _ = district("hertsmere")
        found = problems(with_district("hertsmere", scheduled_appointments_from=typed), TODAY)
        assert [p.field for p in found] == [f"districts.{k}.scheduled_appointments_from"]
        assert "not a go-live date" in found[0].reason

    def test_a_go_live_date_next_year_is_a_plan(self) -> None:
        assert problems(with_district("hertsmere", scheduled_appointments_from=date(2027, 3, 9)), TODAY) == []

    def test_a_station_s_start_date_is_checked_too(self) -> None:
        i, _ = station("stevenage")
        found = problems(with_station("stevenage", appointments_from=date(18, 6, 25)), TODAY)
        assert [p.field for p in found] == [f"stations.{i}.appointments_from"]

    def test_another_time_zone_is_refused(self) -> None:
        found = problems(COUNTY.model_copy(update={"timezone": "Europe/Paris"}), TODAY)
        assert [p.field for p in found] == ["timezone"]


class TestTheWholeDocument:
    def test_every_problem_is_named_at_once_and_nothing_is_recorded(self) -> None:
        broken = with_station("hertford", rooms=()).model_copy(update={"timezone": "UTC"})

        with pytest.raises(CountyRefused) as refused:
            decide(LoadCounty(broken, NOW), initial_state())

        assert len(refused.value.problems) == 2
        assert refused.value.summary == "the county's reference data is not whole: 2 problems"

    def test_the_version_in_force_loaded_again_is_not_judged_again(self) -> None:
        state = fold(initial_state(), decide(LoadCounty(COUNTY, NOW), initial_state()))
        assert decide(LoadCounty(COUNTY, NOW + hours(1)), state) == []

    def test_ids_twice_and_stations_of_unknown_districts_are_refused_by_the_model_with_their_field(
        self,
    ) -> None:
        twice = COUNTY.model_dump(mode="json")
        twice["stations"].append(twice["stations"][0])
        unknown = COUNTY.model_dump(mode="json")
        unknown["districts"] = unknown["districts"][1:]  # Broxbourne, Cheshunt's district

        found = []
        for document in (twice, unknown):
            with pytest.raises(ValidationError) as invalid:
                County.model_validate(document)
            found += [(e["loc"], e["msg"]) for e in invalid.value.errors()]

        assert found == [
            (("stations",), "Value error, a station id appears twice: cheshunt"),
            (("stations",), "Value error, stations name unknown districts: broxbourne"),
        ]

    def test_a_slot_length_that_would_never_end_the_day_is_refused_by_the_model(self) -> None:
        with pytest.raises(ValidationError) as invalid:
            OpeningHours(days=("monday",), first_slot=time(17), closes=time(20), slot_minutes=0)
        assert invalid.value.errors()[0]["loc"] == ("slot_minutes",)
