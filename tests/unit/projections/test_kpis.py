"""The KPI fold: an appointment's events give its line; lines, scores and go-live dates give the counts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from schemas.base import DomainEvent
from schemas.booking import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentMissed,
    AppointmentReassigned,
    AppointmentRescheduled,
    Briefing,
    CallerDetails,
    DiaryCarVisitBooked,
    Initiator,
    SlotBooked,
)
from schemas.personal import Sealed
from services.projections.domain.kpis import (
    AppointmentLine,
    District,
    Fact,
    Row,
    Score,
    apply,
    districts_of,
    fold,
    iso_week,
    latest,
    summarise,
)

SEALED = Sealed(subject_id="subject-1", nonce="bm9uY2U=", ciphertext="Y2lwaGVy")
BRIEFING = Briefing(
    case_reference="41/1/26", summary=SEALED, thrive_risk="low", safe_to_text=True, safe_to_call=True
)
CALLER = CallerDetails(subject_id="subject-1", name=SEALED)


def at(day: date, hour: int) -> datetime:
    """An instant on a London day in summer time (BST, UTC+1): ``hour`` is the London clock."""
    return datetime(day.year, day.month, day.day, hour - 1, tzinfo=UTC)


def station_booked(a: str, station: str, district: str, day: date, hour: int, called: datetime) -> SlotBooked:
    return SlotBooked(
        appointment_id=a, diary=f"station:{station}:{day}", station_id=station, district_id=district,
        room_id=f"{station}-room-1", officer_id="o-1", starts_at=at(day, hour), ends_at=at(day, hour + 1),
        caller=CALLER, briefing=BRIEFING, booked_at=called,
    )  # fmt: skip


def visit_booked(a: str, district: str, day: date, hour: int, called: datetime) -> DiaryCarVisitBooked:
    return DiaryCarVisitBooked(
        appointment_id=a, diary=f"diary-car:{district}:{day}", district_id=district,
        diary_car_id=f"{district}-diary-car", officer_id="o-9", window_starts_at=at(day, hour),
        window_ends_at=at(day, hour + 2), caller=CALLER, briefing=BRIEFING, booked_at=called,
    )  # fmt: skip


def rescheduled(a: str, start: datetime, to: datetime, by: Initiator) -> AppointmentRescheduled:
    return AppointmentRescheduled(
        appointment_id=a, diary="station:x:2027-06-01", from_diary="station:x:2027-06-01",
        from_starts_at=start, from_ends_at=start + timedelta(hours=1), starts_at=to,
        ends_at=to + timedelta(hours=1), room_id="x-room-1", officer_id="o-1",
        initiated_by=by,
        reason="officer-unavailable" if by == "police" else "caller-asked", caller_to_be_told=by == "police",
        rescheduled_at=start - timedelta(days=1),
    )  # fmt: skip


def reassigned(a: str, start: datetime) -> AppointmentReassigned:
    return AppointmentReassigned(
        appointment_id=a, diary="station:x:2027-06-01", from_officer_id="o-1", to_officer_id="o-2",
        starts_at=start, ends_at=start + timedelta(hours=1), reason="officer-withdrawn",
        reassigned_at=start - timedelta(hours=3),
    )  # fmt: skip


def cancelled(a: str, start: datetime, by: Initiator) -> AppointmentCancelled:
    return AppointmentCancelled(
        appointment_id=a, diary="station:x:2027-06-01", starts_at=start,
        initiated_by=by,
        reason="no-longer-needed" if by == "public" else "officer-withdrawn",
        cancelled_at=start - timedelta(hours=5),
    )  # fmt: skip


def attended(a: str, start: datetime) -> AppointmentAttended:
    return AppointmentAttended(
        appointment_id=a, diary="station:x:2027-06-01", officer_id="o-1", starts_at=start,
        outcome="advice-given", recorded_at=start + timedelta(minutes=50),
    )  # fmt: skip


def missed(a: str, start: datetime, by: Initiator) -> AppointmentMissed:
    return AppointmentMissed(
        appointment_id=a, diary="station:x:2027-06-01", starts_at=start,
        missed_by=by,
        reason="did-not-attend" if by == "public" else "officer-called-away",
        recorded_at=start + timedelta(minutes=30),
    )  # fmt: skip


def line_of(*events: DomainEvent) -> AppointmentLine | None:
    line: AppointmentLine | None = None
    for event in events:
        line = apply(line, event)
    return line


MON = date(2027, 6, 7)  # a Monday, ISO week 2027-W23
CALL = datetime(2027, 6, 1, 9, tzinfo=UTC)


def test_a_booking_is_a_line_in_the_london_week_and_district_of_the_time_first_booked() -> None:
    # 00:30 on Monday 14 June in London is still Sunday 13 June in UTC: London's week counts.
    sunday_night_utc = datetime(2027, 6, 13, 23, 30, tzinfo=UTC)
    line = line_of(
        SlotBooked(
            appointment_id="a",
            diary="station:stevenage:2027-06-14",
            station_id="stevenage",
            district_id="stevenage",
            room_id="r",
            officer_id=None,
            starts_at=sunday_night_utc,
            ends_at=sunday_night_utc + timedelta(hours=1),
            caller=CALLER,
            briefing=BRIEFING,
            booked_at=CALL,
        )
    )
    assert line is not None
    assert (line.district_id, line.place, line.local_day, line.iso_week) == (
        "stevenage", "station", date(2027, 6, 14), "2027-W24",
    )  # fmt: skip
    assert (line.outcome, line.held, line.time_changed) == (None, False, False)


def test_attended_at_the_time_first_booked_is_held_even_after_a_reassignment_keeping_the_time() -> None:
    start = at(MON, 17)
    line = line_of(station_booked("a", "stevenage", "stevenage", MON, 17, CALL), reassigned("a", start),
                   attended("a", start))  # fmt: skip
    assert line is not None
    assert (line.outcome, line.held, line.reassigned) == ("attended", True, True)


def test_attended_after_any_move_is_not_held_at_the_booked_time_and_says_who_moved_it() -> None:
    start, later = at(MON, 17), at(MON, 18)
    by_police = line_of(
        station_booked("a", "stevenage", "stevenage", MON, 17, CALL),
        rescheduled("a", start, later, "police"),
        attended("a", later),
    )
    assert by_police is not None
    assert (by_police.held, by_police.rescheduled_by_police, by_police.rescheduled_by_public) == (
        False, True, False,
    )  # fmt: skip
    # Moved away and back again: attended at the booked time, yet it did not hold.
    there_and_back = line_of(
        station_booked("b", "stevenage", "stevenage", MON, 17, CALL),
        rescheduled("b", start, later, "public"),
        rescheduled("b", later, start, "public"),
        attended("b", start),
    )
    assert there_and_back is not None
    assert (there_and_back.held, there_and_back.rescheduled_by_public) == (False, True)
    # A reassignment that changed the time (booking never does) no longer holds either.
    moved_by_reassignment = line_of(
        station_booked("c", "stevenage", "stevenage", MON, 17, CALL),
        reassigned("c", later),
        attended("c", later),
    )
    assert moved_by_reassignment is not None and not moved_by_reassignment.held


def test_cancellations_and_misses_say_by_whom_and_events_for_unbooked_appointments_count_nothing() -> None:
    start = at(MON, 17)
    outcomes = [
        line_of(station_booked(a, "s", "d", MON, 17, CALL), event)
        for a, event in [
            ("p", cancelled("p", start, "police")),
            ("q", cancelled("q", start, "public")),
            ("r", missed("r", start, "public")),
            ("s", missed("s", start, "police")),
        ]
    ]
    assert [o.outcome if o else None for o in outcomes] == [
        "cancelled-by-police", "cancelled-by-public", "missed-by-public", "missed-by-police",
    ]  # fmt: skip
    assert line_of(cancelled("z", start, "public"), attended("z", start)) is None


def test_a_second_booking_event_for_one_appointment_keeps_the_first_call_and_time() -> None:
    first = station_booked("a", "stevenage", "stevenage", MON, 17, CALL)
    again = station_booked("a", "hitchin", "north-hertfordshire", MON, 19, CALL + timedelta(days=1))
    line = line_of(first, again)
    assert line is not None and (line.district_id, line.booked_at) == ("stevenage", CALL)


def test_fold_reports_only_the_lines_that_changed_with_their_last_event() -> None:
    lines: dict[str, AppointmentLine] = {}
    ids = [uuid.uuid4() for _ in range(3)]
    start = at(MON, 17)
    changed = fold(
        lines,
        [
            Fact("a", ids[0], station_booked("a", "s", "d", MON, 17, CALL)),
            Fact("a", ids[1], attended("a", start)),
            Fact("b", ids[2], attended("b", start)),  # never booked: nothing
        ],
    )
    assert set(changed) == {"a"} and changed["a"][1] == ids[1] and changed["a"][0].held
    assert set(lines) == {"a"}


def test_a_county_document_gives_each_district_its_go_live_date_and_skips_what_is_not_whole() -> None:
    document = {
        "districts": [
            {"id": "dacorum", "name": "Dacorum", "scheduled_appointments_from": "2014-11-03"},
            {"id": "broken", "name": "Broken", "scheduled_appointments_from": "someday"},
            {"name": "No id", "scheduled_appointments_from": "2015-01-01"},
            "not a district",
        ]
    }
    assert districts_of(document) == [District("dacorum", "Dacorum", date(2014, 11, 3))]
    assert districts_of({"districts": "none"}) == []


def test_the_latest_score_of_an_appointment_counts_whatever_order_they_come_in() -> None:
    early, late = datetime(2027, 6, 8, tzinfo=UTC), datetime(2027, 6, 9, tzinfo=UTC)
    scores = [Score("a", 2, late), Score("a", 5, early), Score("b", 3, early)]
    assert {a: s.score for a, s in latest(scores).items()} == {"a": 2, "b": 3}
    assert {a: s.score for a, s in latest(reversed(scores)).items()} == {"a": 2, "b": 3}


def figures(rows: list[Row], district: str, period: str, week: str | None = None) -> dict[str, object]:
    (row,) = [r for r in rows if (r.district_id, r.period, r.week) == (district, period, week)]
    return row.flat()


def test_summary_counts_each_category_by_district_and_week_for_the_county_and_around_go_live() -> None:
    wk1, wk2 = MON, MON + timedelta(days=7)  # 2027-W23, 2027-W24
    go_live = wk2  # Stevenage goes live in the middle of the fortnight
    history: list[list[DomainEvent]] = [
        # Stevenage, week 1 (before go-live): one held, one cancelled by the public, one missed by them.
        [station_booked("s1", "stevenage", "stevenage", wk1, 17, at(wk1, 17) - timedelta(days=2)),
         attended("s1", at(wk1, 17))],
        [station_booked("s2", "stevenage", "stevenage", wk1, 18, at(wk1, 18) - timedelta(days=4)),
         cancelled("s2", at(wk1, 18), "public")],
        [station_booked("s3", "stevenage", "stevenage", wk1 + timedelta(days=1), 17, CALL),
         missed("s3", at(wk1 + timedelta(days=1), 17), "public")],
        # Stevenage, week 2 (after): held, reassigned and held, moved by the police then attended,
        # an officer's no-show.
        [visit_booked("s4", "stevenage", wk2, 10, at(wk2, 10) - timedelta(days=1)),
         attended("s4", at(wk2, 10))],
        [station_booked("s5", "stevenage", "stevenage", wk2, 17, at(wk2, 17) - timedelta(days=3)),
         reassigned("s5", at(wk2, 17)), attended("s5", at(wk2, 17))],
        [station_booked("s6", "stevenage", "stevenage", wk2, 18, at(wk2, 18) - timedelta(days=5)),
         rescheduled("s6", at(wk2, 18), at(wk2, 19), "police"), attended("s6", at(wk2, 19))],
        [station_booked("s7", "stevenage", "stevenage", wk2, 19, at(wk2, 19) - timedelta(days=6)),
         missed("s7", at(wk2, 19), "police")],
        # Dacorum, week 2: cancelled by the police; and one outside the range, never counted.
        [station_booked("d1", "hemel-hempstead", "dacorum", wk2, 17, at(wk2, 17) - timedelta(days=2)),
         cancelled("d1", at(wk2, 17), "police")],
        [station_booked("d2", "hemel-hempstead", "dacorum", wk2 + timedelta(days=7), 17, CALL)],
    ]  # fmt: skip
    lines = [line for events in history if (line := line_of(*events)) is not None]
    scores = {"s1": 4, "s4": 5, "s5": 5, "s6": 2, "d2": 1}
    districts = [
        District("stevenage", "Stevenage", go_live),
        District("dacorum", "Dacorum", date(2014, 11, 3)),
    ]
    rows = summarise(lines, scores, districts, wk1, wk2 + timedelta(days=6))

    assert [(r.district_id, r.period, r.week) for r in rows] == [
        ("dacorum", "week", "2027-W23"), ("dacorum", "week", "2027-W24"), ("dacorum", "after-go-live", None),
        ("stevenage", "week", "2027-W23"), ("stevenage", "week", "2027-W24"),
        ("stevenage", "before-go-live", None), ("stevenage", "after-go-live", None),
        ("county", "week", "2027-W23"), ("county", "week", "2027-W24"),
    ]  # fmt: skip
    before = figures(rows, "stevenage", "before-go-live")
    assert (before["from"], before["to"], before["goes_live"]) == ("2027-06-07", "2027-06-13", "2027-06-14")
    assert {k: before[k] for k in COUNTS} == {
        "booked": 3, "held_at_booked_time": 1, "attended": 1, "reassigned": 0, "rescheduled_by_police": 0,
        "rescheduled_by_public": 0, "cancelled_by_police": 0, "cancelled_by_public": 1,
        "missed_by_public": 1, "officer_no_shows": 0,
    }  # fmt: skip
    assert (before["satisfaction_responses"], before["satisfaction_mean"], before["satisfaction_4"]) == (
        1,
        4.0,
        1,
    )
    # Days from the call: 2, 4 and 7 days 7 hours (a call at 9am UTC on 1 June, a visit 5pm BST on the 8th).
    assert (before["days_to_appointment_mean"], before["days_to_appointment_median"]) == (4.43, 4.0)

    after = figures(rows, "stevenage", "after-go-live")
    assert {k: after[k] for k in COUNTS} == {
        "booked": 4, "held_at_booked_time": 2, "attended": 3, "reassigned": 1, "rescheduled_by_police": 1,
        "rescheduled_by_public": 0, "cancelled_by_police": 0, "cancelled_by_public": 0,
        "missed_by_public": 0, "officer_no_shows": 1,
    }  # fmt: skip
    assert [after[f"satisfaction_{s}"] for s in range(1, 6)] == [0, 1, 0, 0, 2]
    assert (after["satisfaction_mean"], after["days_to_appointment_mean"]) == (4.0, 3.75)
    assert after["days_to_appointment_median"] == 4.0
    # The weeks of Stevenage are its periods here (go-live on the second Monday).
    assert {k: figures(rows, "stevenage", "week", "2027-W23")[k] for k in COUNTS} == {
        k: before[k] for k in COUNTS
    }
    # The county's second week: Stevenage's four and Dacorum's police cancellation; d2 is outside the range.
    county = figures(rows, "county", "week", "2027-W24")
    assert (county["booked"], county["cancelled_by_police"], county["satisfaction_responses"]) == (5, 1, 3)
    empty = figures(rows, "dacorum", "week", "2027-W23")
    assert (empty["booked"], empty["satisfaction_mean"], empty["days_to_appointment_median"]) == (
        0,
        None,
        None,
    )


COUNTS = (
    "booked", "held_at_booked_time", "attended", "reassigned", "rescheduled_by_police",
    "rescheduled_by_public", "cancelled_by_police", "cancelled_by_public", "missed_by_public",
    "officer_no_shows",
)  # fmt: skip


def test_one_district_has_its_rows_alone_and_a_district_unknown_to_the_county_has_no_go_live_split() -> None:
    line = line_of(station_booked("x", "nowhere", "nowhere", MON, 17, CALL))
    assert line is not None
    rows = summarise(
        [line], {}, [District("dacorum", "Dacorum", date(2014, 11, 3))], MON, MON, only="nowhere"
    )
    assert [(r.district_id, r.period, r.figures.booked) for r in rows] == [("nowhere", "week", 1)]


def test_weeks_are_iso_weeks_cut_to_the_range() -> None:
    assert iso_week(date(2027, 1, 1)) == "2026-W53"
    rows = summarise([], {}, [], date(2027, 6, 9), date(2027, 6, 15))
    assert [(r.week, r.from_day, r.to_day) for r in rows] == [
        ("2027-W23", date(2027, 6, 9), date(2027, 6, 13)), ("2027-W24", date(2027, 6, 14), date(2027, 6, 15)),
    ]  # fmt: skip
