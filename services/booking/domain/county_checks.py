"""Whether a county document is whole: checked as one before a load puts it in force.

Every district has a diary car that can make visits, every appointment station its rooms
and hours for each of its days, ids are unique and fit a stream id, go-live dates are
sane, and the county is not empty. Each problem names its field (as the request body has
it: ``stations.3.opening_hours``) and the reason; a load with any is refused whole.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from services.booking.domain.errors import Refusal
from services.common.london import spoken_clock, spoken_day
from services.common.reference import WEEKDAYS, County, DiaryCar, District, Station

TIMEZONE = "Europe/London"
# Ids go into stream ids ("station:{id}:{day}") and URLs: lower-case words joined by hyphens.
ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Go-live dates outside these are typing slips (0215, 2205), not plans.
EARLIEST_GO_LIVE = date(2000, 1, 1)
GO_LIVE_HORIZON = timedelta(days=5 * 366)


@dataclass(frozen=True)
class Problem:
    """One reason a county document cannot be put in force."""

    field: str
    reason: str


class CountyRefused(Refusal):
    """The document is not whole: every problem found, each with its field and reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(first.field, first.reason)
        self.problems = tuple(problems)

    @property
    def summary(self) -> str:
        """One sentence for all of them."""
        count = len(self.problems)
        return f"the county's reference data is not whole: {count} problem{'' if count == 1 else 's'}"


def check_county(county: County, today: date) -> None:
    """Refuse the document, naming every problem, unless it is whole."""
    found = problems(county, today)
    if found:
        raise CountyRefused(found)


def problems(county: County, today: date) -> list[Problem]:
    """Every problem of the document, in the order of its fields."""
    found: list[Problem] = []
    if county.timezone != TIMEZONE:
        found.append(Problem("timezone", f"booking keeps {TIMEZONE} time; {county.timezone} is not it"))
    if not county.districts:
        found.append(Problem("districts", "an empty county is refused: it needs at least one district"))
    if not county.appointment_stations():
        found.append(
            Problem("stations", "an empty county is refused: no station offers appointments (rooms and days)")
        )
    cars = [d.diary_car.id for d in county.districts]
    for i, district in enumerate(county.districts):
        found += _district(f"districts.{i}", district, today, twice=district.diary_car.id in cars[:i])
    for i, station in enumerate(county.stations):
        found += _station(f"stations.{i}", station, today)
    return found


def _district(at: str, district: District, today: date, *, twice: bool) -> Iterator[Problem]:
    yield from _named(at, district.id, district.name)
    yield from _go_live(f"{at}.scheduled_appointments_from", district.scheduled_appointments_from, today)
    car = district.diary_car
    if car.district != district.id:
        yield Problem(
            f"{at}.diary_car.district", f"{district.name}'s diary car must be its own, not {car.district}'s"
        )
    if not ID.match(car.id):
        yield Problem(f"{at}.diary_car.id", _bad_id(car.id))
    elif twice:
        yield Problem(f"{at}.diary_car.id", f"diary car id {car.id} appears twice")
    yield from _diary_car(f"{at}.diary_car", car)


def _diary_car(at: str, car: DiaryCar) -> Iterator[Problem]:
    if not car.days:
        yield Problem(f"{at}.days", f"{car.name} runs on no day")
    if not car.windows:
        yield Problem(f"{at}.windows", f"{car.name} has no visit windows")
    if car.visits_per_window < 1:
        yield Problem(f"{at}.visits_per_window", f"{car.name} must make at least one visit a window")
    for j, window in enumerate(car.windows):
        if window.end <= window.start:
            yield Problem(f"{at}.windows.{j}", "a window must end after it starts")
    ordered = sorted(car.windows, key=lambda w: w.start)
    for earlier, later in itertools.pairwise(ordered):
        if later.start < earlier.end:
            yield Problem(
                f"{at}.windows",
                f"{car.name}'s windows overlap: {spoken_clock(earlier.start)} to {spoken_clock(earlier.end)} "
                f"and {spoken_clock(later.start)} to {spoken_clock(later.end)}",
            )


def _station(at: str, station: Station, today: date) -> Iterator[Problem]:
    yield from _named(at, station.id, station.name)
    rooms = [r.id for r in station.rooms]
    for j, room in enumerate(station.rooms):
        if not ID.match(room.id):
            yield Problem(f"{at}.rooms.{j}.id", _bad_id(room.id))
        elif room.id in rooms[:j]:
            yield Problem(f"{at}.rooms.{j}.id", f"room id {room.id} appears twice in {station.name} station")
    if station.rooms and not station.appointment_days:
        yield Problem(f"{at}.appointment_days", f"{station.name} station has appointment rooms but no days")
    if station.appointment_days and not station.rooms:
        yield Problem(f"{at}.rooms", f"{station.name} station has appointment days but no room")
    if station.appointments_from is not None:
        yield from _go_live(f"{at}.appointments_from", station.appointments_from, today)
    if station.offers_appointments:
        yield from _hours(at, station)


def _hours(at: str, station: Station) -> Iterator[Problem]:
    for j, hours in enumerate(station.opening_hours):
        if not hours.slot_starts():
            yield Problem(
                f"{at}.opening_hours.{j}",
                f"no {hours.slot_minutes}-minute slot fits from {spoken_clock(hours.first_slot)} "
                f"to {spoken_clock(hours.closes)}",
            )
    for weekday in (d for d in WEEKDAYS if d in station.appointment_days):
        sets = sum(1 for hours in station.opening_hours if weekday in hours.days)
        if sets != 1:
            missing = f"no opening hours on {weekday.title()}s"
            reason = missing if sets == 0 else f"{sets} sets of opening hours on {weekday.title()}s"
            yield Problem(f"{at}.opening_hours", f"{station.name} station has {reason}")


def _named(at: str, id_: str, name: str) -> Iterator[Problem]:
    if not ID.match(id_):
        yield Problem(f"{at}.id", _bad_id(id_))
    if not name.strip():
        yield Problem(f"{at}.name", f"{id_} needs a name")


def _bad_id(id_: str) -> str:
    return f"id {id_!r} must be lower-case letters and digits joined by single hyphens"


def _go_live(at: str, day: date, today: date) -> Iterator[Problem]:
    if day < EARLIEST_GO_LIVE:
        yield Problem(at, f"{spoken_day(day)} is before {EARLIEST_GO_LIVE.year}: not a go-live date")
    elif day > today + GO_LIVE_HORIZON:
        yield Problem(at, f"{spoken_day(day)} is more than five years ahead: not a go-live date")
