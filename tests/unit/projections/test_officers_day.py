"""An officer's day and its access log, without servers: who a token is, what is opened, what is logged."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from typing import Any

import pytest

from schemas import booking as ev
from schemas.audit import PersonalDataAccessed
from services.common.auth import Caller, Role, collar_of
from services.common.eventstore import canonical_json
from services.common.shredding import seal_with
from services.projections.adapters.access_log import consultations, stream_of
from services.projections.adapters.officers_day import OPERATION, accessed, briefed, is_the_officer
from services.projections.domain.diary import DiaryEntry

SUBJECT, KEY = "subject-0123456789abcdef01234567", os.urandom(32)
STARTS, ENDS = datetime(2027, 5, 12, 16, 0, tzinfo=UTC), datetime(2027, 5, 12, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("subject", "collar"),
    [("4021", "4021"), ("pc-4021", "4021"), ("PC-4021", "4021"), ("ps-ab1234", "AB1234"), (" 4021 ", "4021")],
)
def test_a_tokens_subject_names_a_collar_number_after_an_optional_rank(subject: str, collar: str) -> None:
    assert collar_of(subject) == collar


@pytest.mark.parametrize("subject", ["t", "ct-ana", "pc-", "4", "pc-4021-x", "local-officer", "abc1234"])
def test_a_subject_that_is_no_collar_number_names_none(subject: str) -> None:
    assert collar_of(subject) is None


def test_the_officer_is_their_collar_number_or_their_roster_id_and_nobody_else() -> None:
    assert is_the_officer("pc-4021", "officer-x", "4021")
    assert is_the_officer("officer-x", "officer-x", None)
    assert not is_the_officer("pc-4188", "officer-x", "4021")
    assert not is_the_officer("pc-4021", "officer-x", None)  # no registration: only the id names them
    assert not is_the_officer("40210", "officer-x", "4021")


def _sealed(text: str) -> Any:
    return seal_with(KEY, SUBJECT, text)


def _visit() -> ev.DiaryCarVisitBooked:
    caller = ev.CallerDetails(
        subject_id=SUBJECT, name=_sealed("Ada Wren"), phone=_sealed("+447700900001"),
        address=_sealed("1 Mill Lane, Tring HP23 4AA"),
    )  # fmt: skip
    briefing = ev.Briefing(
        case_reference="41/1/27", summary=_sealed("Shed broken into"),
        access_needs=_sealed("Wheelchair user"),
        thrive_risk="high", safe_to_text=False, safe_to_call=True, interpreter_needed=True, language="cy",
        vulnerability_flags=("older-person",),
    )  # fmt: skip
    return ev.DiaryCarVisitBooked(
        appointment_id="a-1", diary="diary-car:dacorum:2027-05-12", district_id="dacorum",
        diary_car_id="dacorum-car", officer_id="officer-x", window_starts_at=STARTS, window_ends_at=ENDS,
        caller=caller, briefing=briefing, booked_at=STARTS,
    )  # fmt: skip


def _entry(booked: ev.DiaryCarVisitBooked) -> DiaryEntry:
    return DiaryEntry(
        appointment_id=booked.appointment_id, place="diary-car", place_id="dacorum", district_id="dacorum",
        diary_car_id="dacorum-car", diary_stream=booked.diary, starts_at=STARTS, ends_at=ENDS, room_id=None,
        officer_id="officer-x", status="booked", case_reference="41/1/27", thrive_risk="high",
        initiated_by="public", booked_at=STARTS, updated_at=STARTS,
    )  # fmt: skip


def test_a_diary_car_visit_is_briefed_in_clear_with_the_address() -> None:
    visit = _visit()
    shown = briefed(_entry(visit), visit, {SUBJECT: KEY})
    assert shown.caller is not None and shown.briefing is not None
    assert (shown.caller.name, shown.caller.phone, shown.caller.address, shown.caller.erased) == (
        "Ada Wren", "+447700900001", "1 Mill Lane, Tring HP23 4AA", False,
    )  # fmt: skip
    assert (shown.briefing.summary, shown.briefing.access_needs, shown.briefing.background) == (
        "Shed broken into", "Wheelchair user", None,
    )  # fmt: skip
    assert shown.briefing.vulnerability_flags == ["older-person"] and shown.briefing.language == "cy"
    assert shown.local_start == "2027-05-12T17:00:00+01:00" and shown.when == "5pm to 7pm"


def test_an_erased_caller_shows_as_erased_and_the_case_reference_stays() -> None:
    visit = _visit()
    shown = briefed(_entry(visit), visit, {SUBJECT: None})
    assert shown.caller is not None and shown.briefing is not None
    assert (
        shown.caller.erased and (shown.caller.name, shown.caller.phone, shown.caller.address) == (None,) * 3
    )
    assert shown.briefing.summary is None and shown.briefing.case_reference == "41/1/27"


def test_an_opening_is_logged_by_ids_alone_and_reads_back_as_one_entry_per_appointment() -> None:
    visit = _visit()
    shown = [briefed(_entry(visit), visit, {SUBJECT: KEY})]
    event = accessed(Caller(Role.OFFICER, "pc-4021"), "officer-x", date(2027, 5, 12), shown)
    text = canonical_json(event.model_dump(mode="json"))
    assert "Ada" not in text and "Mill Lane" not in text and "900001" not in text and "Shed" not in text
    assert event.subject_ids == (SUBJECT,) and event.channel == OPERATION
    # Logged at 00:30 on 13 May in London (23:30 UTC on the 12th): the London day's stream.
    late = event.model_copy(update={"accessed_at": datetime(2027, 5, 12, 23, 30, tzinfo=UTC)})
    assert stream_of(late) == "access-log:2027-05-13"
    data = json.dumps(event.model_dump(mode="json"))
    row = {
        "data": data, "actor": "officer:pc-4021", "event_id": "e-1",
        "event_type": "PersonalDataAccessed", "schema_version": event.schema_version,
    }  # fmt: skip
    (entry,) = consultations([row], SUBJECT)
    assert entry.what == "officers-day of officer officer-x on 2027-05-12"
    # An entry written before searches were logged (version 1) reads as it did.
    (old,) = consultations([{**row, "schema_version": 1}], SUBJECT)
    assert old == entry
    assert (entry.operation, entry.subject_id, entry.appointment_id, entry.by) == (
        "consultation", SUBJECT, "a-1", "officer:pc-4021",
    )  # fmt: skip
    assert consultations([row], "subject-ffffffffffffffffffffffff") == []
    assert PersonalDataAccessed.model_validate_json(data) == event
