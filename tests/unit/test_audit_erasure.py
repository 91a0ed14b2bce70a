"""Erasure empties exactly the erased subject's sealed values, and the event still reads as before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from schemas.base import parse_event
from schemas.booking import Briefing, CallerDetails, SlotBooked
from schemas.personal import Sealed
from services.projections.adapters.erasure import blanked

ERASED, OTHER = "subject-aaaaaaaaaaaaaaaaaaaaaaaa", "subject-bbbbbbbbbbbbbbbbbbbbbbbb"


def sealed(subject: str) -> Sealed:
    return Sealed(subject_id=subject, nonce="bm9uY2U", ciphertext="Y2lwaGVydGV4dA")


def booked() -> SlotBooked:
    starts = datetime(2027, 2, 3, 10, tzinfo=UTC)
    return SlotBooked(
        appointment_id=str(uuid.uuid4()), diary="station:stevenage:2027-02-03", station_id="stevenage",
        district_id="stevenage", room_id="room-1", officer_id="4021", starts_at=starts,
        ends_at=starts + timedelta(hours=1), booked_at=starts - timedelta(days=2),
        caller=CallerDetails(subject_id=ERASED, name=sealed(ERASED), phone=sealed(ERASED)),
        briefing=Briefing(case_reference="41/12345/26", summary=sealed(ERASED), background=sealed(OTHER),
                          thrive_risk="low", safe_to_text=True, safe_to_call=True),
    )  # fmt: skip


def test_the_subjects_sealed_values_are_emptied_and_no_one_elses() -> None:
    event = booked()
    data = event.model_dump(mode="json")
    emptied = blanked(data, ERASED)
    caller, briefing = emptied["caller"], emptied["briefing"]
    empty = {"subject_id": ERASED, "nonce": "", "ciphertext": ""}
    assert caller["name"] == caller["phone"] == briefing["summary"] == empty
    assert briefing["background"] == sealed(OTHER).model_dump()  # another subject's value stays
    assert caller["subject_id"] == ERASED and briefing["case_reference"] == "41/12345/26"
    assert blanked(emptied, ERASED) == emptied  # a second erasure changes nothing
    assert data["caller"]["name"]["ciphertext"] == "Y2lwaGVydGV4dA"  # the input is left as it was
    # The history and the diary as it stood still read the event.
    reread = parse_event(event.event_type, event.schema_version, emptied)
    assert isinstance(reread, SlotBooked) and reread.starts_at == event.starts_at


def test_values_inside_lists_are_reached_and_non_sealed_lookalikes_are_left() -> None:
    data = {"notes": [sealed(ERASED).model_dump(), {"subject_id": ERASED, "ciphertext": "x"}], "n": 1}
    emptied = blanked(data, ERASED)
    assert emptied["notes"][0]["ciphertext"] == "" and emptied["notes"][1] == {
        "subject_id": ERASED,
        "ciphertext": "x",
    }
