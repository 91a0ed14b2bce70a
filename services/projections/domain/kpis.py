"""The commissioner's figures as pure functions: events -> one line per appointment -> KPIs.

``apply`` folds an appointment's booking events into the one line the KPIs count it by
(no caller, no case: ids, places, times and what became of it); ``summarise`` counts lines
(and the public's scores) by district and ISO week, for the county, and for each district
before and after its go-live date. No I/O and no clock, so the live model, a replay and a
test count alike.

An appointment counts in the week (Europe/London, ISO) of the time it was first booked for,
and in its district's "before" or "after" by that day against the district's go-live date
(``scheduled_appointments_from`` in the county's latest version): every figure of a week is
about the same appointments, so "cancelled by the public" reads against "booked".

**Use of capacity** (``offered_places``, ``Figures.capacity_use``) is the one figure counted by the day
appointments are *at* rather than first booked for, because capacity belongs to a day:

- *offered* (the denominator): appointment places booking offered on the period's days, by
  booking's own rule. For each station of the district taking appointments and its diary car,
  each day booking opens it (``rules.day_refusal``: its days, hours, bank holidays, the district's
  go-live and the station's start), each slot or diary-car window of the day counts as many
  places as booking's ``capacity.allocate`` would fill on the day empty: a room (or a diary-car
  visit of ``visits_per_window``) *and* an officer on appointment or diary-car duty there for the
  whole slot, as the roster published the duties (net of withdrawals, early ends applied). Two
  rooms and one officer offer one place; an officer with no room, none. A slot that has begun
  counts as well as one to come: the figure is about the week, not about now. The rooms, hours
  and go-live are the district's in the latest county version that named it.
- *used* (the numerator): the appointments of the district (station and diary car) whose time is
  now on one of those days and that were not cancelled: still to come, attended, or missed by
  either side (the place was given to them). A slot booked then cancelled is offered and unused
  unless someone else booked it; an appointment moved counts once, on the day it is at now; a
  waiting-list offer not accepted is no booking and counts nothing.

Booking takes no appointment outside what it offers, so *used* is within *offered* unless the
roster took the duty away afterwards, or an appointment is on a day booking no longer opens
(before a go-live date that a later county version moved): such an appointment is counted as
used all the same, so the figure shows it rather than hiding it. The use is used over offered
(None when nothing was offered).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from schemas import booking as ev
from schemas.base import DomainEvent
from services.booking.adapters.roster_facts import DutySpan, Withdrawn, day_bounds, on_duty_for
from services.booking.domain.calendar import openings, to_utc
from services.booking.domain.errors import ClockChange, Refusal
from services.booking.domain.rules import day_refusal
from services.common.reference import County
from services.projections.domain.availability import Duty, day_state, free_capacity, places

LONDON = ZoneInfo("Europe/London")
COUNTY = "county"
SCORES = (1, 2, 3, 4, 5)
# What became of an appointment, once something did (the last of these wins).
ATTENDED = "attended"
CANCELLED_BY = {"police": "cancelled-by-police", "public": "cancelled-by-public"}
MISSED_BY = {"police": "missed-by-police", "public": "missed-by-public"}


def iso_week(day: date) -> str:
    """The ISO week of a date, as "2027-W23"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class AppointmentLine:
    """One appointment as the KPIs count it: no caller, no case, no words."""

    appointment_id: str
    district_id: str
    place: str  # "station" | "diary-car"
    local_day: date  # the London date first booked for: the appointment's week and period
    iso_week: str
    booked_at: datetime  # when the call booked it
    booked_starts_at: datetime  # the time first booked
    starts_at: datetime  # the time it is at now
    ends_at: datetime
    reassigned: bool
    rescheduled_by_police: bool
    rescheduled_by_public: bool
    time_changed: bool  # moved (or found at another time) since first booked
    outcome: str | None  # attended, cancelled-by-*, missed-by-*; None while still to come
    held: bool  # attended at the time first booked
    updated_at: datetime


def _booked(
    appointment_id: str,
    district_id: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    booked_at: datetime,
) -> AppointmentLine:
    day = starts_at.astimezone(LONDON).date()
    return AppointmentLine(
        appointment_id=appointment_id, district_id=district_id, place=place, local_day=day,
        iso_week=iso_week(day), booked_at=booked_at, booked_starts_at=starts_at, starts_at=starts_at,
        ends_at=ends_at, reassigned=False, rescheduled_by_police=False, rescheduled_by_public=False,
        time_changed=False, outcome=None, held=False, updated_at=booked_at,
    )  # fmt: skip


def apply(line: AppointmentLine | None, event: DomainEvent) -> AppointmentLine | None:
    """The appointment's line after ``event``; events the KPIs do not count leave it as it was.

    A waitlist's held offer is not a booking (its acceptance is a SlotBooked); a booking event
    for an appointment already booked keeps the first (when the call was, and for what time).
    """
    match event:
        case ev.SlotBooked() if line is None:
            return _booked(
                event.appointment_id,
                event.district_id,
                "station",
                event.starts_at,
                event.ends_at,
                event.booked_at,
            )
        case ev.DiaryCarVisitBooked() if line is None:
            return _booked(
                event.appointment_id, event.district_id, "diary-car",
                event.window_starts_at, event.window_ends_at, event.booked_at,
            )  # fmt: skip
        case _ if line is None:
            return None
        case ev.AppointmentRescheduled():
            by_police = event.initiated_by == "police"
            return replace(
                line,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                rescheduled_by_police=line.rescheduled_by_police or by_police,
                rescheduled_by_public=line.rescheduled_by_public or not by_police,
                time_changed=True,
                updated_at=event.rescheduled_at,
            )
        case ev.AppointmentReassigned():
            # Another officer at the same time; should the time differ, it no longer holds.
            changed = line.time_changed or event.starts_at != line.starts_at
            return replace(
                line, reassigned=True, time_changed=changed, starts_at=event.starts_at,
                ends_at=event.ends_at, updated_at=event.reassigned_at,
            )  # fmt: skip
        case ev.AppointmentCancelled():
            return replace(
                line, outcome=CANCELLED_BY[event.initiated_by], held=False, updated_at=event.cancelled_at
            )
        case ev.AppointmentMissed():
            return replace(line, outcome=MISSED_BY[event.missed_by], held=False, updated_at=event.recorded_at)
        case ev.AppointmentAttended():
            held = not line.time_changed and event.starts_at == line.booked_starts_at
            return replace(line, outcome=ATTENDED, held=held, updated_at=event.recorded_at)
        case _:
            return line


@dataclass(frozen=True)
class Fact:
    """One booking event of one appointment, as the KPIs fold it."""

    appointment_id: str
    event_id: UUID
    event: DomainEvent


def fold(
    lines: MutableMapping[str, AppointmentLine], facts: Iterable[Fact]
) -> dict[str, tuple[AppointmentLine, UUID]]:
    """Fold facts, in order, into ``lines`` (updated in place); the lines changed, with their last event."""
    changed: dict[str, tuple[AppointmentLine, UUID]] = {}
    for fact in facts:
        before = lines.get(fact.appointment_id)
        after = apply(before, fact.event)
        if after is not None and after != before:
            lines[fact.appointment_id] = after
            changed[fact.appointment_id] = (after, fact.event_id)
    return changed


@dataclass(frozen=True)
class District:
    """A district as the KPIs split it: its name and go-live date, from the county's latest version."""

    district_id: str
    name: str
    goes_live: date


def districts_of(document: Mapping[str, Any]) -> list[District]:
    """The districts of a county document (CountyReferenceLoaded's), those it names whole."""
    found: list[District] = []
    listed = document.get("districts")
    for item in listed if isinstance(listed, list) else []:
        if not isinstance(item, dict):
            continue
        district_id, name, goes_live = (
            item.get("id"),
            item.get("name"),
            item.get("scheduled_appointments_from"),
        )
        if not (isinstance(district_id, str) and isinstance(goes_live, str)):
            continue
        try:
            day = date.fromisoformat(goes_live)
        except ValueError:
            continue
        found.append(District(district_id, name if isinstance(name, str) else district_id, day))
    return found


@dataclass(frozen=True)
class Score:
    """The public's satisfaction with one appointment (the latest they gave)."""

    appointment_id: str
    score: int
    recorded_at: datetime


def latest(scores: Iterable[Score]) -> dict[str, Score]:
    """Each appointment's latest score (a later reply replaces an earlier; a tie keeps the higher)."""
    kept: dict[str, Score] = {}
    for s in scores:
        before = kept.get(s.appointment_id)
        if before is None or (s.recorded_at, s.score) > (before.recorded_at, before.score):
            kept[s.appointment_id] = s
    return kept


@dataclass
class Figures:
    """The KPIs of a set of appointments."""

    booked: int = 0
    held_at_booked_time: int = 0
    attended: int = 0
    reassigned: int = 0
    rescheduled_by_police: int = 0
    rescheduled_by_public: int = 0
    cancelled_by_police: int = 0
    cancelled_by_public: int = 0
    missed_by_public: int = 0
    officer_no_shows: int = 0
    satisfaction: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))
    days_to_appointment: list[float] = field(default_factory=list)
    capacity_offered: int = 0
    capacity_used: int = 0

    def count(self, line: AppointmentLine, score: int | None) -> None:
        """Count one appointment (and its score, if the public gave one)."""
        self.booked += 1
        self.held_at_booked_time += line.held
        self.attended += line.outcome == ATTENDED
        self.reassigned += line.reassigned
        self.rescheduled_by_police += line.rescheduled_by_police
        self.rescheduled_by_public += line.rescheduled_by_public
        self.cancelled_by_police += line.outcome == CANCELLED_BY["police"]
        self.cancelled_by_public += line.outcome == CANCELLED_BY["public"]
        self.missed_by_public += line.outcome == MISSED_BY["public"]
        self.officer_no_shows += line.outcome == MISSED_BY["police"]
        if score in self.satisfaction:
            self.satisfaction[score] += 1
        self.days_to_appointment.append((line.booked_starts_at - line.booked_at) / timedelta(days=1))

    @property
    def satisfaction_responses(self) -> int:
        """How many appointments the public scored."""
        return sum(self.satisfaction.values())

    @property
    def satisfaction_mean(self) -> float | None:
        """The mean score, to two places; None when nobody scored."""
        n = self.satisfaction_responses
        return round(sum(s * k for s, k in self.satisfaction.items()) / n, 2) if n else None

    @property
    def capacity_use(self) -> float | None:
        """Places used over places offered, to two places; None when nothing was offered."""
        return round(self.capacity_used / self.capacity_offered, 2) if self.capacity_offered else None

    @property
    def days_to_appointment_mean(self) -> float | None:
        """Mean days from the call to the time first booked, to two places."""
        d = self.days_to_appointment
        return round(statistics.fmean(d), 2) if d else None

    @property
    def days_to_appointment_median(self) -> float | None:
        """Median days from the call to the time first booked, to two places."""
        d = self.days_to_appointment
        return round(statistics.median(d), 2) if d else None


@dataclass(frozen=True)
class Row:
    """One line of the KPIs: a district's (or the county's) week, or a district before or after go-live."""

    district_id: str  # or "county"
    district_name: str
    period: str  # "week" | "before-go-live" | "after-go-live"
    week: str | None
    from_day: date
    to_day: date
    goes_live: date | None
    figures: Figures

    def flat(self) -> dict[str, Any]:
        """The row as JSON and CSV show it: one column per figure."""
        f = self.figures
        return {
            "district_id": self.district_id, "district_name": self.district_name, "period": self.period,
            "week": self.week, "from": self.from_day.isoformat(), "to": self.to_day.isoformat(),
            "goes_live": self.goes_live.isoformat() if self.goes_live else None,
            "booked": f.booked, "held_at_booked_time": f.held_at_booked_time, "attended": f.attended,
            "reassigned": f.reassigned, "rescheduled_by_police": f.rescheduled_by_police,
            "rescheduled_by_public": f.rescheduled_by_public, "cancelled_by_police": f.cancelled_by_police,
            "cancelled_by_public": f.cancelled_by_public, "missed_by_public": f.missed_by_public,
            "officer_no_shows": f.officer_no_shows, "satisfaction_responses": f.satisfaction_responses,
            "satisfaction_mean": f.satisfaction_mean,
            **{f"satisfaction_{s}": f.satisfaction[s] for s in SCORES},
            "days_to_appointment_mean": f.days_to_appointment_mean,
            "days_to_appointment_median": f.days_to_appointment_median,
            "capacity_offered": f.capacity_offered, "capacity_used": f.capacity_used,
            "capacity_use": f.capacity_use,
        }  # fmt: skip


COLUMNS: tuple[str, ...] = tuple(Row(COUNTY, "", "week", None, date.min, date.min, None, Figures()).flat())


def _weeks(first: date, last: date) -> list[tuple[str, date, date]]:
    """Each ISO week touching [first, last]: its label and its days within the range."""
    weeks: list[tuple[str, date, date]] = []
    day = first
    while day <= last:
        end = min(last, day + timedelta(days=6 - day.weekday()))
        weeks.append((iso_week(day), day, end))
        day = end + timedelta(days=1)
    return weeks


def is_used(line: AppointmentLine) -> bool:
    """Whether the appointment holds the place it is at now (not cancelled): use of capacity's numerator."""
    return line.outcome not in CANCELLED_BY.values()


def day_now(line: AppointmentLine) -> date:
    """The London day the appointment is at now (after any move)."""
    return line.starts_at.astimezone(LONDON).date()


def summarise(
    lines: Iterable[AppointmentLine],
    scores: Mapping[str, int],
    districts: Sequence[District],
    first: date,
    last: date,
    *,
    only: str | None = None,
    offered: Mapping[tuple[str, date], int] | None = None,
) -> list[Row]:
    """The KPIs of the appointments first booked for a day in [first, last].

    For each district (``only``: that one alone) a row per ISO week (every week, none left out
    for having no appointments), then its "before go-live" and "after go-live" over the range;
    without ``only``, the county's week rows follow. A district no county version named (an
    appointment's district unknown here) still has its rows, with no go-live date.

    Use of capacity goes by day rather than by the day first booked for: ``offered`` holds the
    places each district offered each day (``offered_places``), and a line whose appointment is
    now on a day of the range and not cancelled is a place used, in that day's week and period.
    """
    known = {d.district_id: d for d in districts}
    weeks = _weeks(first, last)
    week_of = {day: label for label, start, end in weeks for day in _days(start, end)}
    by_week: dict[tuple[str, str], Figures] = {}
    by_period: dict[tuple[str, str], Figures] = {}
    seen: set[str] = set()

    def scopes(district_id: str, day: date) -> list[Figures]:
        """The figures a district's day counts in: its week's, the county's week's and its period's."""
        label = week_of[day]
        found = [by_week.setdefault((scope, label), Figures()) for scope in (district_id, COUNTY)]
        district = known.get(district_id)
        if district is not None:
            period = "before-go-live" if day < district.goes_live else "after-go-live"
            found.append(by_period.setdefault((district_id, period), Figures()))
        return found

    for line in lines:
        if only is not None and line.district_id != only:
            continue
        if first <= line.local_day <= last:
            seen.add(line.district_id)
            for figures in scopes(line.district_id, line.local_day):
                figures.count(line, scores.get(line.appointment_id))
        now_on = day_now(line)
        if first <= now_on <= last and is_used(line):
            seen.add(line.district_id)
            for figures in scopes(line.district_id, now_on):
                figures.capacity_used += 1
    for (district_id, day), places_offered in (offered or {}).items():
        if first <= day <= last and (only is None or district_id == only) and places_offered:
            seen.add(district_id)
            for figures in scopes(district_id, day):
                figures.capacity_offered += places_offered
    ids = [only] if only is not None else sorted(set(known) | seen)
    rows: list[Row] = []
    for district_id in ids:
        district = known.get(district_id)
        name = district.name if district else district_id
        goes_live = district.goes_live if district else None
        for label, start, end in weeks:
            figures = by_week.get((district_id, label), Figures())
            rows.append(Row(district_id, name, "week", label, start, end, goes_live, figures))
        if district is not None:
            before_end = min(last, district.goes_live - timedelta(days=1))
            after_start = max(first, district.goes_live)
            for period, start, end in (
                ("before-go-live", first, before_end),
                ("after-go-live", after_start, last),
            ):
                if start <= end:
                    figures = by_period.get((district_id, period), Figures())
                    rows.append(Row(district_id, name, period, None, start, end, goes_live, figures))
    if only is None:
        for label, start, end in weeks:
            figures = by_week.get((COUNTY, label), Figures())
            rows.append(Row(COUNTY, "the whole county", "week", label, start, end, None, figures))
    return rows


def district_places(document: Mapping[str, Any], district_id: str) -> dict[str, Any] | None:
    """The part of a county document that offers a district's capacity: the district (its diary car
    and go-live) and its stations, as a county of its own; None when the document does not make one
    booking could read (a district without its diary car, say)."""
    listed, stations = document.get("districts"), document.get("stations")
    if not isinstance(listed, list) or not isinstance(stations, list):
        return None
    mine = [d for d in listed if isinstance(d, dict) and d.get("id") == district_id]
    part = {
        "name": document.get("name"),
        "timezone": document.get("timezone"),
        "districts": mine,
        "stations": [s for s in stations if isinstance(s, dict) and s.get("district") == district_id],
    }
    try:
        County.model_validate(part)
    except ValueError:
        return None
    return part


def offered_places(
    county: County,
    district_id: str,
    first: date,
    last: date,
    duties: Sequence[Duty],
    withdrawn: Sequence[Withdrawn],
) -> dict[tuple[str, date], int]:
    """The places a district offered each day of [first, last] (module docstring: *offered*), by
    booking's own rule on each day empty; ``county`` has the district (``district_places``)."""
    found: dict[tuple[str, date], int] = {}
    for place, _, _ in places(county, district_id):
        spans = [DutySpan(d.officer_id, d.starts_at, d.ends_at) for d in duties if d.gives(place)]
        for day in _days(first, last):
            on_duty = on_duty_for(day_bounds(day), spans, withdrawn)
            if not on_duty:
                continue  # nobody on duty there that day: no place offered, whatever the rooms
            try:
                state = day_state(county, place, day, ())
            except Refusal:
                continue
            if day_refusal(state) is not None:
                continue
            count = 0
            for start, end in openings(state.place, day):
                try:
                    starts_at, ends_at = to_utc(day, start), to_utc(day, end)
                except ClockChange:
                    continue  # booking offers no slot at a time that is not exactly one instant
                count += free_capacity(state, starts_at, ends_at, on_duty)
            if count:
                found[(district_id, day)] = found.get((district_id, day), 0) + count
    return found


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]
