"""Seed a plausible roster into the running roster service, so the diary has officers on duty.

The roster is INVENTED: plausible collar numbers, names, officers and shifts, not the force's
real people or rotas (each name is a common first name and surname paired by the
officer's collar number, so a re-run gives the same name). Per appointment station three
officers (two at Hertford and Bishop's Stortford, which open on alternate days), two of them
on appointment duty over the station's opening hours each day it opens and the other on an
early emergency-response shift; per district two diary-car officers splitting the car's
windows between them; and per district a Safer Neighbourhood officer on weekday
shifts, who gives no appointment capacity.

Every id is derived (uuid5) from the collar number and the day, and who works which
shift from the date itself, so a re-run (on any start date) records nothing twice.
"""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

from schemas.roster import Duty
from services.common.london import LONDON
from services.common.reference import County, Station, bank_holiday, load_county
from services.roster.domain.ids import officer_id_for, roster_id

# Common British first names and surnames, paired by collar number into invented officers.
FIRST_NAMES = (
    "Aisha", "Alex", "Amelia", "Ben", "Chloe", "Connor", "Daniel", "Ella", "Emma", "Farah",
    "Grace", "Hannah", "Harry", "Imran", "Isla", "Jack", "James", "Jasmine", "Kieran", "Laura",
    "Liam", "Lucy", "Mark", "Megan", "Mohammed", "Nadia", "Niamh", "Oliver", "Owen", "Priya",
    "Rachel", "Rhys", "Ruth", "Sam", "Sarah", "Sophie", "Tom", "Vikram", "Will", "Zoe",
)  # fmt: skip
SURNAMES = (
    "Ahmed", "Baker", "Bennett", "Brooks", "Campbell", "Carter", "Chapman", "Clarke", "Davies",
    "Edwards", "Evans", "Fletcher", "Foster", "Green", "Hall", "Harris", "Hughes", "Jones", "Kaur",
    "Khan", "Lewis", "Marshall", "Mason", "Morgan", "Murphy", "Nowak", "Okafor", "Palmer", "Patel",
    "Price", "Reid", "Roberts", "Shah", "Singh", "Taylor", "Turner", "Walker", "Ward", "Wood", "Wright",
)  # fmt: skip
EMERGENCY_RESPONSE_SHIFT = (time(7), time(15))
SAFER_NEIGHBOURHOOD_SHIFT = (time(9), time(17))
WEEKDAYS = range(5)


@dataclass(frozen=True)
class SeedOfficer:
    """An invented officer: collar number, home station, and the role the seed gives them."""

    collar_number: str
    station_id: str
    role: str
    place_id: str
    index: int

    @property
    def officer_id(self) -> str:
        """The id the roster derives from the collar number."""
        return officer_id_for(self.collar_number)

    @property
    def name(self) -> str:
        """An invented name, the same for the same collar number on every run."""
        return invented_name(self.collar_number)


def invented_name(collar_number: str) -> str:
    """A plausible, invented name for a collar number: a first name and a surname picked by its hash."""
    pick = int(hashlib.sha256(f"name:{collar_number}".encode()).hexdigest(), 16)
    return f"{FIRST_NAMES[pick % len(FIRST_NAMES)]} {SURNAMES[(pick // len(FIRST_NAMES)) % len(SURNAMES)]}"


@dataclass(frozen=True)
class SeedDuty:
    """One duty to assign, in local wall-clock times of one day."""

    officer: SeedOfficer
    day: date
    duty: Duty
    starts: time
    ends: time
    station_id: str | None = None
    district_id: str | None = None

    def span(self) -> tuple[datetime, datetime]:
        """The duty as UTC instants (none of the seed's times falls in a clock change's hour)."""
        starts = datetime.combine(self.day, self.starts, tzinfo=LONDON).astimezone(UTC)
        ends = datetime.combine(self.day, self.ends, tzinfo=LONDON).astimezone(UTC)
        return starts, ends

    def body(self) -> dict[str, Any]:
        """The request body of the duty, with its derived id."""
        starts, ends = self.span()
        kind = f"{self.duty}:{self.starts.isoformat()}"
        return {
            "duty_id": roster_id("seed", self.officer.collar_number, self.day.isoformat(), kind),
            "duty": self.duty,
            "station_id": self.station_id,
            "district_id": self.district_id,
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
        }


def _collar_numbers(keys: list[str]) -> dict[str, str]:
    """A stable 4-digit collar number per key; a clash moves to the next free number."""
    taken: set[int] = set()
    numbers: dict[str, str] = {}
    for key in keys:
        number = 1000 + int(hashlib.sha256(key.encode()).hexdigest(), 16) % 9000
        while number in taken:
            number = 1000 + (number - 999) % 9000
        taken.add(number)
        numbers[key] = str(number)
    return numbers


def _home_of_team(county: County, district_id: str) -> str:
    """Where a Safer Neighbourhood officer is based: a local station without a room if there is one."""
    stations = county.stations_in(district_id)
    local = [s for s in stations if not s.offers_appointments]
    return (local or list(stations))[0].id


def roster_officers(county: County) -> list[SeedOfficer]:
    """Every invented officer of the county, in a stable order."""
    plan: list[tuple[str, str, str, int]] = []  # (home station, role, place, index)
    for station in county.appointment_stations():
        every_day = len(station.appointment_days) == 7
        plan += [(station.id, "station", station.id, n) for n in range(3 if every_day else 2)]
    for district in county.districts:
        home = next((s.id for s in county.appointment_stations() if s.district == district.id), None)
        home = home or _home_of_team(county, district.id)
        plan += [(home, "diary-car", district.id, n) for n in range(2)]
        plan.append((_home_of_team(county, district.id), "safer-neighbourhood", district.id, 0))
    collars = _collar_numbers([f"{role}:{place}:{n}" for _, role, place, n in plan])
    return [
        SeedOfficer(collars[f"{role}:{place}:{n}"], home, role, place, n) for home, role, place, n in plan
    ]


def _station_open(station: Station, day: date) -> bool:
    if station.appointments_from is not None and day < station.appointments_from:
        return False
    return not (bank_holiday(day) and not station.open_on_bank_holidays)


def duties_on(county: County, officers: list[SeedOfficer], day: date) -> Iterator[SeedDuty]:
    """The invented duties of one day; who works which shift turns on the date, not the run."""
    turn = day.toordinal()
    for station in county.appointment_stations():
        team = [o for o in officers if o.role == "station" and o.place_id == station.id]
        hours = station.hours_on(day) if _station_open(station, day) else None
        on_appointments = {o for o in team if len(team) < 3 or o.index != turn % 3} if hours else set()
        for officer in team:
            if officer in on_appointments and hours is not None:
                yield SeedDuty(officer, day, "appointments", hours.first_slot, hours.closes, station.id)
            else:
                start, end = EMERGENCY_RESPONSE_SHIFT
                yield SeedDuty(officer, day, "emergency-response", start, end, district_id=station.district)
    for district in county.districts:
        car = district.diary_car
        runs = day.strftime("%A").lower() in car.days and not (
            bank_holiday(day) and not car.runs_on_bank_holidays
        )
        crew = [o for o in officers if o.role == "diary-car" and o.place_id == district.id]
        if runs and day >= district.scheduled_appointments_from and car.windows:
            half = (len(car.windows) + 1) // 2
            shifts = [(car.windows[0].start, car.windows[half - 1].end)]
            if half < len(car.windows):
                shifts.append((car.windows[half].start, car.windows[-1].end))
            for officer in crew:
                if (officer.index + turn) % 2 < len(shifts):
                    start, end = shifts[(officer.index + turn) % 2]
                    yield SeedDuty(officer, day, "diary-car", start, end, district_id=district.id)
        if day.weekday() in WEEKDAYS:
            for officer in (
                o for o in officers if o.role == "safer-neighbourhood" and o.place_id == district.id
            ):
                start, end = SAFER_NEIGHBOURHOOD_SHIFT
                yield SeedDuty(officer, day, "safer-neighbourhood", start, end, district_id=district.id)


def _post(client: httpx.Client, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """POST (GET without a body), waiting up to a minute for a roster that is still starting (503,
    or not listening yet)."""
    deadline = clock.monotonic() + 60
    while True:
        try:
            response = client.get(path) if body is None else client.post(path, json=body)
        except httpx.TransportError:
            if clock.monotonic() > deadline:
                raise
        else:
            if response.status_code != 503 or clock.monotonic() > deadline:
                return response
        clock.sleep(0.5)


def _seed_officer(
    roster_url: str, headers: dict[str, str], officer: SeedOfficer, duties: list[SeedDuty]
) -> int:
    """Register one officer and assign their duties, in order; returns the records added."""
    added = 0
    with httpx.Client(base_url=roster_url, headers=headers, timeout=30) as client:
        body = {"collar_number": officer.collar_number, "station_id": officer.station_id}
        held = _post(client, f"/officers/{officer.officer_id}")
        # The invented name only where none is recorded (a first run, or a roster seeded before
        # names): a name a supervisor has given the officer since stays.
        if held.status_code != 200 or held.json().get("name") is None:
            body["name"] = officer.name
        response = _post(client, "/officers", body)
        if response.status_code == 409:
            return 0  # a real officer already holds this collar number: leave them alone
        if response.status_code not in (200, 201):
            raise RuntimeError(f"the roster refused officer {officer.collar_number}: {response.text}")
        added += response.status_code == 201
        for duty in duties:
            response = _post(client, f"/officers/{officer.officer_id}/duties", duty.body())
            if response.status_code == 409 and "clashing_duty" in response.json():
                continue
            if response.status_code not in (200, 201):
                raise RuntimeError(f"the roster refused a duty {duty.body()}: {response.text}")
            added += response.status_code == 201
    return added


def seed_roster(
    roster_url: str, token: str, start: date, days: int = 14, county: County | None = None
) -> int:
    """Register the invented officers and assign their duties for ``days`` days; returns records added.

    A re-run adds nothing and returns 0. A duty already over is skipped (the roster
    refuses those), and so is one that clashes with a duty a supervisor has given
    the officer since, and an invented officer whose collar number a real one holds:
    what supervisors recorded wins. ``county`` is the one just loaded into booking (the seed
    file's by default); the roster checks every duty against the version it took from booking.
    """
    county = county or load_county()
    officers = roster_officers(county)
    now = datetime.now(UTC)
    plan: dict[SeedOfficer, list[SeedDuty]] = {officer: [] for officer in officers}
    for offset in range(days):
        for duty in duties_on(county, officers, start + timedelta(days=offset)):
            if duty.span()[1] > now:
                plan[duty.officer].append(duty)
    headers = {"Authorization": f"Bearer {token}", "x-correlation-id": f"seed-roster-{start.isoformat()}"}
    # Officers are separate streams, so several at once never contend; each one's own
    # requests stay in order (registered before any duty).
    with ThreadPoolExecutor(max_workers=8) as workers:
        added = workers.map(lambda item: _seed_officer(roster_url.rstrip("/"), headers, *item), plan.items())
        return sum(added)
