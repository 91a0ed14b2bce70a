"""The diary as it stood shows what had been moved away from the day by then (canned answers)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.test_web import EVENING_SLOT, FakeServices, _diary, client, services

__all__ = ["client", "services"]

AT = "2026-06-14T16:30:00+00:00"  # 5:30pm in London
MOVED = {
    "place": "station",
    "place_id": "cheshunt",
    "day": "2026-12-02",
    "day_display": "Wednesday 2 December 2026",
    "as_at": AT,
    "moved_away": [
        {
            "appointment_id": "apt-moved",
            "case_reference": "41/777/26",
            "was_starts_at": "2026-12-02T18:00:00Z",
            "was_ends_at": "2026-12-02T19:00:00Z",
            "initiated_by": "police",
            "reason": "room-unavailable",
            "caller_to_be_told": True,
            "went_to": {
                "place": "station",
                "place_id": "hertford",
                "starts_at": "2026-12-04T17:00:00Z",
                "ends_at": "2026-12-04T18:00:00Z",
                "room_id": None,
                "officer_id": None,
                "status": "rescheduled",
            },
        }
    ],
}


def test_the_diary_as_it_stood_asks_and_shows_the_moved_away_list_at_the_same_instant(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/diaries/stations/cheshunt/2026-12-02", _diary(EVENING_SLOT))
    services.answer("/diaries/stations/cheshunt/2026-12-02/moved-away", MOVED)

    page = client.get("/stations/cheshunt/diary", params={"day": "2026-12-02", "at": AT})

    assert page.status_code == 200
    asked = {c.url.path: c.url.params.get("at") for c in services.calls if "diaries" in c.url.path}
    assert asked == {
        "/diaries/stations/cheshunt/2026-12-02": AT,
        "/diaries/stations/cheshunt/2026-12-02/moved-away": AT,
    }
    # Nothing of now is asked for a past moment: not the roster's duties, not booking's free slots.
    assert not any(c.url.path in ("/duties", "/stations/cheshunt/free-slots") for c in services.calls)
    assert "Moved away from this day by then" in page.text
    assert "Then: </span>5pm to 6pm, Friday 4 December 2026" in page.text
    assert "Moved by the police: the room was not available" in page.text
    # Its link opens Hertford's diary of that day as it stood at the same moment.
    assert (
        'href="/stations/hertford/diary?day=2026-12-04&amp;at=2026-06-14T16%3A30%3A00%2B00%3A00"' in page.text
    )


def test_the_diary_as_it_stood_says_when_nothing_had_moved_away_by_then(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/diaries/stations/cheshunt/2026-12-02", _diary())
    services.answer("/diaries/stations/cheshunt/2026-12-02/moved-away", MOVED | {"moved_away": []})

    page = client.get("/stations/cheshunt/diary", params={"day": "2026-12-02", "at": AT})

    assert page.status_code == 200
    assert "No appointment had been moved away from this day by then." in page.text


def test_the_diary_as_it_stood_says_so_when_the_moved_away_list_cannot_be_read(
    client: TestClient, services: FakeServices
) -> None:
    services.answer("/diaries/stations/cheshunt/2026-12-02", _diary(EVENING_SLOT))

    page = client.get("/stations/cheshunt/diary", params={"day": "2026-12-02", "at": AT})

    assert page.status_code == 200
    assert "5pm to 6pm" in page.text
    assert "The diaries service cannot say just now." in page.text
