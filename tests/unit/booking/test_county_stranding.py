"""A county load that would remove or close a place holding booked appointments is refused."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from services.booking.adapters.refusals import status_of
from services.booking.domain.commands import CancelAppointment
from services.booking.domain.reference import LoadCounty, decide, fold, initial_state
from services.booking.domain.state import DiaryDay
from services.booking.domain.stranded import Stranded, WouldStrand, places_changed, stranded
from services.common.reference import County, Room
from tests.unit.booking.builders import (
    COUNTY,
    MONDAY,
    NOW,
    at,
    book_station,
    book_visit,
    diary_car_day,
    given,
    on_duty,
    station_day,
)

IN_FORCE = fold(initial_state(), decide(LoadCounty(COUNTY, NOW), initial_state()))
CHESHUNT = next(i for i, s in enumerate(COUNTY.stations) if s.id == "cheshunt")
DACORUM = next(k for k, d in enumerate(COUNTY.districts) if d.id == "dacorum")


def cheshunt_monday() -> DiaryDay:
    """Cheshunt's Monday: one appointment booked at 5pm, another booked at 6pm and cancelled."""
    officers = on_duty("officer-a", "officer-b")
    cancel = CancelAppointment(
        appointment_id="apt-2", initiated_by="public", reason="no-longer-needed", now=NOW
    )
    return given(
        station_day(),
        book_station("apt-1", 17, officers=officers),
        book_station("apt-2", 18, officers=officers),
        cancel,
    )


def dacorum_car_monday() -> DiaryDay:
    """Dacorum's diary car on Monday: one home visit booked at 8am."""
    return given(diary_car_day(), book_visit("visit-1", 8, officers=on_duty("officer-c")))


def changed(**stations: dict[str, Any] | None) -> County:
    """The reviewed county with stations changed (a dict of changes) or removed (None)."""
    kept = []
    for station in COUNTY.stations:
        change = stations.get(station.id.replace("-", "_"), {})
        if change is not None:
            kept.append(station.model_copy(update=change))
    return COUNTY.model_copy(update={"stations": tuple(kept)})


def refusal(county: County, *days: DiaryDay) -> WouldStrand:
    with pytest.raises(WouldStrand) as refused:
        decide(LoadCounty(county, NOW, days), IN_FORCE)
    return refused.value


class TestAStationHoldingBookedAppointments:
    def test_removing_it_is_refused_naming_the_station_and_counting_only_what_is_booked(self) -> None:
        refused = refusal(changed(cheshunt=None), cheshunt_monday())

        assert refused.stranded == (
            Stranded("stations", "station", "cheshunt", None, "station cheshunt would be removed", 1, MONDAY),
        )
        assert refused.stranded[0].reason == (
            "station cheshunt would be removed, stranding 1 booked appointment"
            " (the first on Monday 15 June 2026)"
        )
        assert (
            refused.reason
            == "the county's new reference data would strand 1 booked appointment: move or cancel them first"
        )
        assert status_of(refused) == 409

    def test_removing_its_room_is_refused_naming_the_room(self) -> None:
        refused = refusal(
            changed(cheshunt={"rooms": (Room(id="cheshunt-room-2", name="New room"),)}), cheshunt_monday()
        )

        assert [(s.field, s.room_id, s.appointments) for s in refused.stranded] == [
            (f"stations.{CHESHUNT}.rooms", "cheshunt-room-1", 1)
        ]

    def test_closing_it_is_refused(self) -> None:
        refused = refusal(changed(cheshunt={"rooms": (), "appointment_days": ()}), cheshunt_monday())

        assert [(s.field, s.why) for s in refused.stranded] == [
            (f"stations.{CHESHUNT}", "Cheshunt station would take no appointments")
        ]

    def test_closing_it_on_the_booked_weekday_is_refused(self) -> None:
        days = ("tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        refused = refusal(changed(cheshunt={"appointment_days": days}), cheshunt_monday())

        assert [(s.field, s.why) for s in refused.stranded] == [
            (
                f"stations.{CHESHUNT}.appointment_days",
                "Cheshunt station would take no appointments on Mondays",
            )
        ]

    def test_opening_it_only_after_the_booked_day_is_refused(self) -> None:
        refused = refusal(
            changed(cheshunt={"appointments_from": MONDAY + timedelta(days=1)}), cheshunt_monday()
        )

        assert [s.field for s in refused.stranded] == [f"stations.{CHESHUNT}.appointments_from"]

    def test_hours_that_no_longer_hold_the_booked_slot_are_refused(self) -> None:
        later = (
            COUNTY.stations[CHESHUNT]
            .opening_hours[0]
            .model_copy(update={"first_slot": time(18), "closes": time(21)})
        )
        hours = (later, COUNTY.stations[CHESHUNT].opening_hours[1])

        refused = refusal(changed(cheshunt={"opening_hours": hours}), cheshunt_monday())

        assert [s.field for s in refused.stranded] == [f"stations.{CHESHUNT}.opening_hours"]

    def test_a_change_that_keeps_the_booked_slot_is_recorded(self) -> None:
        longer = COUNTY.stations[CHESHUNT].opening_hours[0].model_copy(update={"closes": time(21)})
        hours = (longer, COUNTY.stations[CHESHUNT].opening_hours[1])

        assert (
            len(
                decide(
                    LoadCounty(changed(cheshunt={"opening_hours": hours}), NOW, (cheshunt_monday(),)),
                    IN_FORCE,
                )
            )
            == 1
        )

    def test_appointments_already_over_strand_nothing(self) -> None:
        after_the_day = at(MONDAY + timedelta(days=1), 9)
        assert stranded(changed(cheshunt=None), [cheshunt_monday()], after_the_day) == []


class TestADistrictHoldingBookedAppointments:
    def without_dacorum(self) -> County:
        districts = tuple(d for d in COUNTY.districts if d.id != "dacorum")
        stations = tuple(s for s in COUNTY.stations if s.district != "dacorum")
        return COUNTY.model_copy(update={"districts": districts, "stations": stations})

    def test_removing_it_is_refused_for_its_diary_car_s_visits(self) -> None:
        refused = refusal(self.without_dacorum(), dacorum_car_monday())

        assert [(s.field, s.place, s.place_id, s.appointments) for s in refused.stranded] == [
            ("districts", "diary-car", "dacorum", 1)
        ]

    def test_a_go_live_moved_past_the_booked_day_is_refused_for_its_car_and_its_stations(self) -> None:
        hemel = given(
            station_day("hemel-hempstead"),
            book_station("apt-h", 17, station_id="hemel-hempstead", officers=on_duty("officer-h")),
        )
        districts = tuple(
            d.model_copy(update={"scheduled_appointments_from": MONDAY + timedelta(days=7)})
            if d.id == "dacorum"
            else d
            for d in COUNTY.districts
        )

        refused = refusal(COUNTY.model_copy(update={"districts": districts}), dacorum_car_monday(), hemel)

        assert {(s.place, s.place_id) for s in refused.stranded} == {
            ("diary-car", "dacorum"),
            ("station", "hemel-hempstead"),
        }
        assert {s.field for s in refused.stranded} == {f"districts.{DACORUM}.scheduled_appointments_from"}
        assert refused.reason.startswith("the county's new reference data would strand 2 booked appointments")

    def test_its_car_stopping_on_the_booked_weekday_is_refused(self) -> None:
        districts = tuple(
            d.model_copy(
                update={"diary_car": d.diary_car.model_copy(update={"days": ("saturday", "sunday")})}
            )
            if d.id == "dacorum"
            else d
            for d in COUNTY.districts
        )

        refused = refusal(COUNTY.model_copy(update={"districts": districts}), dacorum_car_monday())

        assert [s.field for s in refused.stranded] == [f"districts.{DACORUM}.diary_car.days"]


class TestWhichPlacesALoadChanges:
    def test_only_the_places_it_defines_differently_or_removes(self) -> None:
        assert places_changed(COUNTY, COUNTY) == (frozenset(), frozenset())
        assert places_changed(COUNTY, changed(cheshunt=None, watford={"name": "Watford Central"})) == (
            frozenset({"cheshunt", "watford"}),
            frozenset(),
        )

    def test_a_changed_district_brings_its_stations(self) -> None:
        districts = tuple(
            d.model_copy(update={"name": "Dacorum (West)"}) if d.id == "dacorum" else d
            for d in COUNTY.districts
        )

        assert places_changed(COUNTY, COUNTY.model_copy(update={"districts": districts})) == (
            frozenset({"hemel-hempstead"}),  # Berkhamsted and Tring take no appointments
            frozenset({"dacorum"}),
        )
