"""Officers' names: what a registration takes, how version 1 (no name) reads, and renaming.

``OfficerRegistered`` version 1 had no name; version 2 adds it. Stored version-1 records are
never rewritten: they read through the upcaster as version 2 with no name recorded.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.base import parse_event, registered_events
from schemas.roster import (
    NAME_MAX_LENGTH,
    OfficerRegistered,
    OfficerRegisteredV1,
    OfficerRenamed,
    StaffMemberNamed,
)
from services.booking.main import CONSUMERS as BOOKING
from services.common.wiring import Consumer
from services.notifications.main import CONSUMERS as NOTIFICATIONS
from services.roster.adapters.views import cover_view, officer_view
from services.roster.app.forms import OfficerForm
from services.roster.domain.commands import RegisterOfficer
from services.roster.domain.cover import cover_at
from services.roster.domain.decider import decide, fold
from services.roster.domain.errors import Conflict
from tests.unit.roster.builders import NOW, OFFICER, assign, at, given, register

VERSION_1 = {
    "officer_id": OFFICER,
    "collar_number": "4127",
    "station_id": "cheshunt",
    "district_id": "broxbourne",
    "registered_at": "2026-06-10T09:00:00Z",
}


def named(name: str | None, collar: str = "4127") -> RegisterOfficer:
    return register(collar=collar).model_copy(update={"name": name})


class TestTheEventVersions:
    def test_both_versions_are_registered_under_one_wire_name(self) -> None:
        assert registered_events()[("OfficerRegistered", 1)] is OfficerRegisteredV1
        assert registered_events()[("OfficerRegistered", 2)] is OfficerRegistered
        assert OfficerRegisteredV1.model_json_schema()["title"] == "OfficerRegistered"

    def test_a_version_1_registration_reads_as_version_2_with_no_name_recorded(self) -> None:
        read = parse_event("OfficerRegistered", 1, dict(VERSION_1))

        assert isinstance(read, OfficerRegistered)
        assert read.name is None
        assert (read.collar_number, read.station_id, read.district_id) == ("4127", "cheshunt", "broxbourne")

    def test_the_upcaster_leaves_the_stored_data_as_it_was(self) -> None:
        stored = dict(VERSION_1)

        parse_event("OfficerRegistered", 1, stored)

        assert stored == VERSION_1  # history is never rewritten, not even in memory

    def test_a_version_2_registration_keeps_its_name(self) -> None:
        read = parse_event("OfficerRegistered", 2, VERSION_1 | {"name": "Priya Shah"})

        assert isinstance(read, OfficerRegistered) and read.name == "Priya Shah"

    def test_version_1_never_held_a_name_so_one_in_its_data_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            OfficerRegisteredV1.model_validate(VERSION_1 | {"name": "Priya Shah"})

    def test_an_officer_registered_under_version_1_is_on_the_roster_with_no_name(self) -> None:
        old = parse_event("OfficerRegistered", 1, dict(VERSION_1))

        officer = fold(given(), [old])

        assert officer.registration is not None and officer.registration.name is None
        assert officer_view(officer).name is None
        assert officer_view(officer).collar_number == "4127"


class TestTheRegistrationForm:
    def form(self, **fields: Any) -> OfficerForm:
        return OfficerForm.model_validate({"collar_number": "4127", "station_id": "cheshunt", **fields})

    def test_the_name_is_kept_with_spaces_around_and_runs_inside_made_one(self) -> None:
        assert self.form(name="  Priya   Shah ").name == "Priya Shah"

    def test_a_name_in_any_script_is_taken(self) -> None:
        assert self.form(name="Siobhán Ní Bhriain-Ōtani").name == "Siobhán Ní Bhriain-Ōtani"

    def test_a_form_without_a_name_records_none(self) -> None:
        assert self.form().name is None

    @pytest.mark.parametrize(
        ("name", "why"),
        [
            ("", "visible characters"),
            ("    ", "visible characters"),
            ("Priya\nShah", "no control characters"),
            ("Priya\x00Shah", "no control characters"),
            ("P" * (NAME_MAX_LENGTH + 1), f"at most {NAME_MAX_LENGTH} characters"),
            (42, "valid string"),
        ],
    )
    def test_a_name_that_is_not_one_is_refused_naming_the_field(self, name: object, why: str) -> None:
        with pytest.raises(ValidationError) as refused:
            self.form(name=name)

        [error] = refused.value.errors()
        assert error["loc"] == ("name",)
        assert why in error["msg"]

    def test_the_longest_name_is_taken(self) -> None:
        assert self.form(name="P" * NAME_MAX_LENGTH).name == "P" * NAME_MAX_LENGTH


class TestRegisteringWithAName:
    def test_the_registration_carries_the_name(self) -> None:
        [registered] = decide(named("Priya Shah"), given())

        assert isinstance(registered, OfficerRegistered)
        assert registered.name == "Priya Shah"

    def test_the_officer_and_their_cover_are_shown_with_the_name(self) -> None:
        officer = given(named("Priya Shah"), assign())

        [cover] = cover_at(officer, "station", "cheshunt", at(0), at(23))

        assert officer_view(officer).name == "Priya Shah"
        assert cover_view(cover).name == "Priya Shah"
        assert cover_view(cover).collar_number == "4127"

    def test_cover_of_an_officer_with_no_name_says_none(self) -> None:
        [cover] = cover_at(given(register(), assign()), "station", "cheshunt", at(0), at(23))

        assert cover_view(cover).name is None


class TestRenaming:
    def test_registering_again_the_same_way_with_a_name_gives_one_to_an_officer_who_had_none(self) -> None:
        events = decide(named("Priya Shah"), given(register()))

        assert events == [OfficerRenamed(officer_id=OFFICER, name="Priya Shah", renamed_at=NOW)]
        renamed = fold(given(register()), events)
        assert renamed.registration is not None and renamed.registration.name == "Priya Shah"
        assert renamed.registration.collar_number == "4127"

    def test_another_name_corrects_it(self) -> None:
        officer = given(named("Priya Shah"), named("Priya Shah-Khan"))

        assert officer.registration is not None and officer.registration.name == "Priya Shah-Khan"

    def test_the_same_name_again_changes_nothing(self) -> None:
        assert decide(named("Priya Shah"), given(named("Priya Shah"))) == []

    def test_no_name_again_keeps_the_name_recorded(self) -> None:
        assert decide(named(None), given(named("Priya Shah"))) == []

    def test_a_name_with_another_collar_number_is_still_a_conflict_not_a_rename(self) -> None:
        with pytest.raises(Conflict) as refused:
            decide(named("Priya Shah", collar="5150"), given(register()))

        assert refused.value.field == "officer_id"
        assert "Priya" not in refused.value.reason

    def test_a_rename_carries_only_the_name_and_when(self) -> None:
        assert set(OfficerRenamed.model_fields) == {"officer_id", "name", "renamed_at"}
        with pytest.raises(ValidationError):
            OfficerRenamed(officer_id=OFFICER, name="", renamed_at=NOW)


def test_no_service_that_texts_callers_reads_the_events_that_carry_names() -> None:
    # Names are staff data: notifications (which texts callers) and booking (whose events it texts
    # from) take only the roster's duty facts, so a name cannot reach a text to a caller.
    named = {OfficerRegistered.event_type, OfficerRenamed.event_type, StaffMemberNamed.event_type}
    consumers: list[Consumer[Any]] = [*BOOKING, *NOTIFICATIONS]
    readers = [c for c in consumers if c.topic == OfficerRegistered.topic]
    assert readers, "no consumer of roster.events found: the check would prove nothing"
    for consumer in readers:
        assert consumer.wants is not None and not named & consumer.wants, consumer.name
