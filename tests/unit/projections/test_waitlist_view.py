"""The waitlist read model's pure fold: booking's events -> who waits, in order, and the offers out."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentCancelled,
    AppointmentOffered,
    OfferLapsed,
    Slot,
    WaitlistJoined,
    WaitlistLeft,
)
from services.projections.domain.waitlist import Entry, Fact, apply, fold, waiting
from tests.unit.projections.test_kpis import BRIEFING, CALLER, station_booked

DAY = date(2030, 11, 5)
T0 = datetime(2030, 11, 1, 9, tzinfo=UTC)
SLOT = Slot(
    place="station", place_id="hatfield", starts_at=datetime(2030, 11, 5, 18, tzinfo=UTC),
    ends_at=datetime(2030, 11, 5, 19, tzinfo=UTC), room_id="hatfield-room-1",
)  # fmt: skip


def joined(
    a: str, minutes: int, first: date = DAY, last: date = DAY, place_id: str = "hatfield"
) -> WaitlistJoined:
    return WaitlistJoined(
        appointment_id=a, diary=f"waitlist:station:{place_id}", place="station", place_id=place_id,
        from_day=first, to_day=last, caller=CALLER, briefing=BRIEFING,
        joined_at=T0 + timedelta(minutes=minutes),
    )  # fmt: skip


def offered(a: str) -> AppointmentOffered:
    return AppointmentOffered(
        appointment_id=a, diary="station:hatfield:2030-11-05", slot=SLOT, officer_id="o-1",
        expires_at=T0 + timedelta(hours=3), offered_at=T0 + timedelta(hours=1),
    )  # fmt: skip


def lapsed(a: str) -> OfferLapsed:
    return OfferLapsed(
        appointment_id=a, diary="station:hatfield:2030-11-05", starts_at=SLOT.starts_at,
        lapsed_at=T0 + timedelta(hours=3),
    )  # fmt: skip


def declined(a: str) -> AppointmentCancelled:
    return AppointmentCancelled(
        appointment_id=a, diary="station:hatfield:2030-11-05", starts_at=SLOT.starts_at,
        initiated_by="public", reason="no-longer-needed", cancelled_at=T0 + timedelta(hours=2),
    )  # fmt: skip


def left(a: str, booked: bool) -> WaitlistLeft:
    return WaitlistLeft(
        appointment_id=a, diary="waitlist:station:hatfield", booked=booked, left_at=T0 + timedelta(hours=4)
    )


def entry_after(*events: DomainEvent) -> Entry | None:
    entry: Entry | None = None
    for event in events:
        entry = apply(entry, event)
    return entry


def test_a_caller_joins_waiting_with_the_case_reference_and_risk_and_nothing_of_the_caller() -> None:
    entry = entry_after(joined("w1", 0))
    assert entry is not None
    assert (entry.state, entry.place, entry.place_id, entry.from_day, entry.to_day) == (
        "waiting", "station", "hatfield", DAY, DAY,
    )  # fmt: skip
    assert (entry.case_reference, entry.thrive_risk, entry.joined_at) == (
        BRIEFING.case_reference, BRIEFING.thrive_risk, T0,
    )  # fmt: skip
    assert "subject-1" not in repr(entry)  # the caller's subject, sealed fields: none of it kept
    assert entry_after(joined("w1", 0), joined("w1", 5)) == entry  # a redelivered join keeps the first


def test_an_offer_is_held_then_lapses_or_is_declined_and_the_caller_waits_on() -> None:
    held = entry_after(joined("w1", 0), offered("w1"))
    assert held is not None and held.state == "offered"
    assert (held.offer_starts_at, held.offer_room_id, held.offer_officer_id, held.offers) == (
        SLOT.starts_at, "hatfield-room-1", "o-1", 1,
    )  # fmt: skip
    assert held.offer_expires_at == T0 + timedelta(hours=3)
    for after, lapses, declines in (
        (entry_after(joined("w1", 0), offered("w1"), lapsed("w1")), 1, 0),
        (entry_after(joined("w1", 0), offered("w1"), declined("w1")), 0, 1),
    ):
        assert after is not None
        assert (after.state, after.offer_starts_at, after.offer_expires_at) == ("waiting", None, None)
        assert (after.offers, after.lapsed, after.declined) == (1, lapses, declines)


def test_accepting_books_and_leaving_leaves_and_nothing_after_changes_either() -> None:
    accepted = station_booked("w1", "hatfield", "welwyn-hatfield", DAY, 18, T0)
    booked = entry_after(joined("w1", 0), offered("w1"), accepted, left("w1", booked=True))
    assert booked is not None and (booked.state, booked.left_at) == ("booked", accepted.booked_at)
    gone = entry_after(joined("w1", 0), offered("w1"), left("w1", booked=False))
    assert gone is not None and (gone.state, gone.offer_starts_at) == ("left", None)
    assert entry_after(joined("w1", 0), offered("w1"), left("w1", booked=False), offered("w1")) == gone
    # A booking or cancellation of an appointment nobody waited under is no entry.
    assert entry_after(accepted, declined("w1")) is None
    # A cancellation of a waiting caller's id that is not an offer (none held) changes nothing.
    assert entry_after(joined("w1", 0), declined("w1")) == entry_after(joined("w1", 0))


def test_the_waiting_are_first_come_first_open_only_and_a_range_keeps_those_whose_days_meet_it() -> None:
    facts = [
        Fact(e.appointment_id, uuid.uuid4(), e)
        for e in (
            joined("late", 30, DAY + timedelta(days=2), DAY + timedelta(days=4)),
            joined("early", 10, DAY, DAY + timedelta(days=2)),
            joined("middle", 20),
            joined("gone", 5),
            left("gone", booked=False),
            offered("middle"),
        )
    ]
    entries: dict[str, Entry] = {}
    changed = fold(entries, facts)
    assert set(changed) == {"late", "early", "middle", "gone"}
    assert changed["middle"][1] == facts[-1].event_id  # each with its last event
    assert [(e.appointment_id, e.state) for e in waiting(entries.values())] == [
        ("early", "waiting"), ("middle", "offered"), ("late", "waiting"),
    ]  # fmt: skip
    assert [e.appointment_id for e in waiting(entries.values(), DAY + timedelta(days=3))] == ["late"]
    assert [e.appointment_id for e in waiting(entries.values(), None, DAY)] == ["early", "middle"]
    assert fold(entries, facts[-1:]) == {}  # applied again, nothing changes
