"""What a new county would strand: booked appointments left with no station, room, district or hours.

Pure: the handler reads the diary days holding appointments at the places a load changes
(``places_changed``) and hands them over; each appointment still to come is checked against
the new county, and those it would leave nowhere are counted by place and reason, never by
person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from schemas.booking import Place
from services.booking.domain.calendar import local_time, openings
from services.booking.domain.errors import Conflict
from services.booking.domain.state import Appointment, DiaryDay
from services.common.london import spoken_day
from services.common.reference import County, bank_holiday, weekday_of


@dataclass(frozen=True)
class Stranded:
    """Booked appointments at one place that a load would leave with nowhere to happen."""

    field: str  # the part of the new document that strands them
    place: Place
    place_id: str
    room_id: str | None
    why: str
    appointments: int
    first_day: date

    @property
    def reason(self) -> str:
        """The refusal in plain words: what changes, and how many booked appointments it strands."""
        booked = (
            "1 booked appointment" if self.appointments == 1 else f"{self.appointments} booked appointments"
        )
        return f"{self.why}, stranding {booked} (the first on {spoken_day(self.first_day)})"


class WouldStrand(Conflict):
    """The load would remove or close places that hold booked appointments; each is named."""

    def __init__(self, stranded: Sequence[Stranded]) -> None:
        total = sum(s.appointments for s in stranded)
        super().__init__(
            stranded[0].field,
            f"the county's new reference data would strand {total} booked appointment"
            f"{'' if total == 1 else 's'}: move or cancel them first",
        )
        self.stranded = tuple(stranded)


def places_changed(old: County, new: County) -> tuple[frozenset[str], frozenset[str]]:
    """The stations and districts (diary cars) of ``old`` whose appointments ``new`` could strand.

    Those it removes or defines differently, a station also when its district changes: only
    their days need reading.
    """
    districts = frozenset(d.id for d in old.districts if d not in new.districts)
    stations = frozenset(
        s.id for s in old.appointment_stations() if s not in new.stations or s.district in districts
    )
    return stations, districts


def stranded(county: County, days: Iterable[DiaryDay], now: datetime) -> list[Stranded]:
    """The booked appointments still to come on ``days`` that ``county`` would strand, by place and why."""
    found: dict[tuple[str, Place, str, str | None, str], list[date]] = {}
    for day in days:
        for appointment in day.holding():
            if appointment.ends_at <= now:
                continue
            why = _why(county, day, appointment)
            if why is not None:
                field, text = why
                room = appointment.room_id if field.endswith(".rooms") else None
                key = (field, day.diary.place, day.diary.place_id, room, text)
                found.setdefault(key, []).append(day.diary.day)
    return [
        Stranded(field, place, place_id, room, why, len(days_), min(days_))
        for (field, place, place_id, room, why), days_ in sorted(
            found.items(), key=lambda kv: (kv[0][0], kv[0][2])
        )
    ]


def _why(county: County, day: DiaryDay, appointment: Appointment) -> tuple[str, str] | None:
    """(field, why) when ``county`` leaves the appointment nowhere to happen; None when it still can."""
    if day.diary.place == "diary-car":
        return _why_diary_car(county, day, appointment)
    return _why_station(county, day, appointment)


def _why_station(county: County, day: DiaryDay, appointment: Appointment) -> tuple[str, str] | None:
    place_id, on = day.diary.place_id, day.diary.day
    found = [(i, s) for i, s in enumerate(county.stations) if s.id == place_id]
    if not found:
        return "stations", f"station {place_id} would be removed"
    i, station = found[0]
    at, name = f"stations.{i}", f"{station.name} station"
    if not station.offers_appointments:
        return at, f"{name} would take no appointments"
    if appointment.room_id not in {r.id for r in station.rooms}:
        return f"{at}.rooms", f"room {appointment.room_id} of {name} would be removed"
    district = _district_live(county, station.district, on)
    if district is not None:
        return district
    if station.appointments_from is not None and on < station.appointments_from:
        return (
            f"{at}.appointments_from",
            f"{name} would take appointments only from {spoken_day(station.appointments_from)}",
        )
    if weekday_of(on) not in station.appointment_days:
        return f"{at}.appointment_days", f"{name} would take no appointments on {on:%A}s"
    if bank_holiday(on) and not station.open_on_bank_holidays:
        return f"{at}.open_on_bank_holidays", f"{name} would close on bank holidays"
    if not _fits(openings(station, on), appointment):
        return f"{at}.opening_hours", f"{name}'s new hours would have no slot at the booked times"
    return None


def _why_diary_car(county: County, day: DiaryDay, appointment: Appointment) -> tuple[str, str] | None:
    place_id, on = day.diary.place_id, day.diary.day
    found = [(k, d) for k, d in enumerate(county.districts) if d.id == place_id]
    if not found:
        return "districts", f"district {place_id} (and its diary car) would be removed"
    k, district = found[0]
    at, car = f"districts.{k}.diary_car", district.diary_car
    live = _district_live(county, district.id, on)
    if live is not None:
        return live
    if weekday_of(on) not in car.days:
        return f"{at}.days", f"{car.name} would not run on {on:%A}s"
    if bank_holiday(on) and not car.runs_on_bank_holidays:
        return f"{at}.runs_on_bank_holidays", f"{car.name} would not run on bank holidays"
    if not _fits(openings(car, on), appointment):
        return f"{at}.windows", f"{car.name}'s new windows would not hold the booked visits"
    return None


def _district_live(county: County, district_id: str, on: date) -> tuple[str, str] | None:
    for k, district in enumerate(county.districts):
        if district.id == district_id and on < district.scheduled_appointments_from:
            return (
                f"districts.{k}.scheduled_appointments_from",
                f"{district.name} would begin scheduled appointments only on "
                f"{spoken_day(district.scheduled_appointments_from)}",
            )
    return None


def _fits(times: Sequence[tuple[time, time]], appointment: Appointment) -> bool:
    return (local_time(appointment.starts_at), local_time(appointment.ends_at)) in times
