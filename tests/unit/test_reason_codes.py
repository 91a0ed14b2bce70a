"""Staff reasons are codes: version-1 events with free text read as codes, and the text is gone.

The stored history is never rewritten; reading it through the upcasters gives every consumer
version 2, where the reason is a code and staff's own words, if any, are a sealed note.
"""

from __future__ import annotations

from typing import Any

import pytest

from schemas.base import parse_event
from schemas.booking import (
    AppointmentDisplaced,
    AppointmentMissed,
    AppointmentMovedOut,
    AppointmentReassigned,
    AppointmentRescheduled,
)
from schemas.roster import DutyEnded
from services.booking.adapters.lifecycle_http import MISSED_CODES, RESCHEDULE_CODES, coded
from services.booking.domain.errors import Refusal

AT = "2027-02-03T17:00:00Z"
BASE = {"appointment_id": "apt-1", "diary": "station:stevenage:2027-02-03"}
RESCHEDULED_V1 = BASE | {
    "from_diary": "station:stevenage:2027-02-03", "from_starts_at": AT, "from_ends_at": AT, "starts_at": AT,
    "ends_at": AT, "room_id": None, "officer_id": None, "caller_to_be_told": True, "rescheduled_at": AT,
}  # fmt: skip


@pytest.mark.parametrize(
    ("by", "said", "code"),
    [
        ("police", "officer withdrawn: sickness", "officer-withdrawn"),
        ("police", "duty ended early: major incident", "duty-ended-early"),
        ("police", "station-closed", "station-closed"),
        ("police", "room repairs at the front counter", "other"),
        ("public", "works late, asked for the evening", "caller-asked"),
    ],
)
def test_a_version_1_reschedule_reads_as_a_code_and_keeps_none_of_the_words(
    by: str, said: str, code: str
) -> None:
    moved = parse_event("AppointmentRescheduled", 1, RESCHEDULED_V1 | {"initiated_by": by, "reason": said})
    assert isinstance(moved, AppointmentRescheduled)
    assert (moved.reason, moved.note, moved.subject_id) == (code, None, None)
    assert said not in moved.model_dump_json() or said == code


def test_every_version_1_event_with_free_text_reads_as_version_2() -> None:
    cases: list[tuple[str, dict[str, Any], type, str]] = [
        ("AppointmentMovedOut", BASE | {"to_diary": "x", "starts_at": AT, "initiated_by": "police",
                                        "reason": "officer withdrawn: court", "moved_at": AT},
         AppointmentMovedOut, "officer-withdrawn"),
        ("AppointmentReassigned", BASE | {"from_officer_id": "o-1", "to_officer_id": "o-2", "starts_at": AT,
                                          "ends_at": AT, "reason": "officer withdrawn: court",
                                          "reassigned_at": AT},
         AppointmentReassigned, "officer-withdrawn"),
        ("AppointmentDisplaced", BASE | {"officer_id": "o-1", "starts_at": AT, "withdrawal_id": "w-1",
                                         "reason": "duty ended early: sent to an incident",
                                         "displaced_at": AT},
         AppointmentDisplaced, "duty-ended-early"),
        ("AppointmentMissed", BASE | {"starts_at": AT, "missed_by": "public", "reason": "did not come",
                                      "recorded_at": AT},
         AppointmentMissed, "other"),
        ("DutyEnded", {"officer_id": "o-1", "duty_id": "d-1", "ends_at": AT, "early": False,
                       "reason": "end of shift", "ended_at": AT},
         DutyEnded, "planned"),
        ("DutyEnded", {"officer_id": "o-1", "duty_id": "d-1", "ends_at": AT, "early": True,
                       "reason": "court", "ended_at": AT},
         DutyEnded, "court"),
    ]  # fmt: skip
    for name, data, model, code in cases:
        read = parse_event(name, 1, data)
        assert isinstance(read, model) and read.reason == code, name  # type: ignore[attr-defined]


def test_a_version_1_record_without_a_reason_is_still_refused_by_validation() -> None:
    with pytest.raises(ValueError, match="reason"):
        parse_event("AppointmentRescheduled", 1, RESCHEDULED_V1 | {"initiated_by": "police"})


def test_a_reason_code_passes_and_older_clients_free_words_become_other_with_a_note() -> None:
    assert coded("room-unavailable", None, RESCHEDULE_CODES) == ("room-unavailable", None)
    assert coded("room-unavailable", "flooded", RESCHEDULE_CODES) == ("room-unavailable", "flooded")
    assert coded("works late", None, RESCHEDULE_CODES) == ("other", "works late")
    assert coded("did not come", None, MISSED_CODES) == ("other", "did not come")
    with pytest.raises(Refusal) as refused:
        coded("works late", "and a note", RESCHEDULE_CODES)
    assert refused.value.field == "reason"
