"""The county's reference data: districts, stations, rooms, hours and diary cars.

Read from one reviewed data file, ``seed/hertfordshire.toml``; bank holidays come
from the ``holidays`` library (England and Wales), never from a hand-kept list.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import holidays
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.common.config import PROJECT_ROOT
from services.common.fields import LocalTime

COUNTY_FILE = PROJECT_ROOT / "seed" / "hertfordshire.toml"

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# In date.weekday() order, so WEEKDAYS[day.weekday()] names the day.
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def weekday_of(day: date) -> Weekday:
    """The weekday name of a date."""
    return WEEKDAYS[day.weekday()]


class OpeningHours(_Frozen):
    """When a station takes appointments on some weekdays: hourly slots from first_slot."""

    days: tuple[Weekday, ...]
    first_slot: LocalTime
    closes: LocalTime
    # Bounded: slot_starts walks the day in steps of it.
    slot_minutes: int = Field(default=60, ge=5, le=24 * 60)

    def slot_starts(self) -> tuple[time, ...]:
        """The local start time of every slot, the last one ending by closing time."""
        start = datetime.combine(date.min, self.first_slot)
        closes = datetime.combine(date.min, self.closes)
        length = timedelta(minutes=self.slot_minutes)
        starts: list[time] = []
        while start + length <= closes:
            starts.append(start.time())
            start += length
        return tuple(starts)


class Room(_Frozen):
    """A confidential appointment room in a station."""

    id: str
    name: str


class Station(_Frozen):
    """A police station; only those with rooms and days offer appointments."""

    id: str
    name: str
    district: str
    rooms: tuple[Room, ...] = ()
    appointment_days: tuple[Weekday, ...] = ()
    open_on_bank_holidays: bool = False
    appointments_from: date | None = None
    opening_hours: tuple[OpeningHours, ...] = ()

    @property
    def offers_appointments(self) -> bool:
        """Whether the station has a room and days for appointments."""
        return bool(self.rooms and self.appointment_days)

    def hours_on(self, day: date) -> OpeningHours | None:
        """The opening hours that apply on a weekday, ignoring bank holidays."""
        weekday = weekday_of(day)
        if weekday not in self.appointment_days:
            return None
        return next((h for h in self.opening_hours if weekday in h.days), None)


class Window(_Frozen):
    """A diary-car home-visit window, local time."""

    start: LocalTime
    end: LocalTime


class DiaryCar(_Frozen):
    """A district's diary car: home visits in booked windows."""

    id: str
    name: str
    district: str
    days: tuple[Weekday, ...]
    windows: tuple[Window, ...]
    visits_per_window: int
    runs_on_bank_holidays: bool


class District(_Frozen):
    """A policing district and the date it began scheduled appointments."""

    id: str
    name: str
    scheduled_appointments_from: date
    diary_car: DiaryCar


class County(_Frozen):
    """The whole county's reference data, with lookups by id."""

    name: str
    timezone: str
    districts: tuple[District, ...]
    stations: tuple[Station, ...]

    # Lookups by id need these whatever the document; the rest of what makes a county whole is
    # checked where a load is decided (services.booking.domain.county_checks), not on every read.
    @field_validator("districts")
    @classmethod
    def _district_ids_unique(cls, districts: tuple[District, ...]) -> tuple[District, ...]:
        _unique("district", [d.id for d in districts])
        return districts

    @field_validator("stations")
    @classmethod
    def _stations_in_known_districts(
        cls, stations: tuple[Station, ...], info: ValidationInfo
    ) -> tuple[Station, ...]:
        _unique("station", [s.id for s in stations])
        known = {d.id for d in info.data.get("districts", ())}
        unknown = sorted({s.district for s in stations} - known)
        if "districts" in info.data and unknown:
            raise ValueError(f"stations name unknown districts: {', '.join(unknown)}")
        return stations

    def district(self, district_id: str) -> District:
        """The district with this id; LookupError when there is none."""
        for district in self.districts:
            if district.id == district_id:
                return district
        raise LookupError(f"no district {district_id!r}")

    def station(self, station_id: str) -> Station:
        """The station with this id; LookupError when there is none."""
        for station in self.stations:
            if station.id == station_id:
                return station
        raise LookupError(f"no station {station_id!r}")

    def diary_car(self, district_id: str) -> DiaryCar:
        """The diary car of a district."""
        return self.district(district_id).diary_car

    def appointment_stations(self) -> tuple[Station, ...]:
        """The stations that offer appointments."""
        return tuple(s for s in self.stations if s.offers_appointments)

    def stations_in(self, district_id: str) -> tuple[Station, ...]:
        """Every station of a district."""
        return tuple(s for s in self.stations if s.district == district_id)


def _unique(kind: str, ids: list[str]) -> None:
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"a {kind} id appears twice: {', '.join(twice)}")


@cache
def _bank_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG")


def bank_holiday(day: date) -> str | None:
    """The name of the England-and-Wales bank holiday on this date, if it is one."""
    name = _bank_holidays().get(day)
    return str(name) if name is not None else None


def _county_from(raw: dict[str, Any]) -> County:
    car = raw["diary_car"]
    districts = [
        {
            **d,
            "diary_car": {
                **car,
                "id": f"{d['id']}-diary-car",
                "name": f"{d['name']} diary car",
                "district": d["id"],
            },
        }
        for d in raw["districts"]
    ]
    stations = []
    for station in raw["stations"]:
        days = station.get("appointment_days", ())
        stations.append(
            {
                "opening_hours": raw["opening_hours"] if station.get("rooms") else (),
                "appointments_from": raw["station_appointments_from"],
                **station,
                "appointment_days": WEEKDAYS if days == "every day" else days,
            }
        )
    return County.model_validate(
        {"name": raw["county"], "timezone": raw["timezone"], "districts": districts, "stations": stations}
    )


@cache
def load_county(path: Path | None = None) -> County:
    """The county's reference data from the reviewed seed file (read once per path)."""
    with (path or COUNTY_FILE).open("rb") as file:
        return _county_from(tomllib.load(file))
