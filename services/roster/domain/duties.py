"""Registering officers, and assigning and ending their duties."""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.roster import DutyAssigned, DutyEnded, OfficerRegistered, OfficerRenamed
from services.roster.domain.commands import AssignDuty, EndDuty, RegisterOfficer
from services.roster.domain.errors import Conflict, DutyClash, Refusal, UnknownDuty, UnknownOfficer
from services.roster.domain.state import Officer, OfficerEvent, Registration, RosteredDuty

# A duty is one shift; a longer span is almost certainly a mistyped date.
LONGEST_DUTY = timedelta(hours=24)


def _when(instant: datetime) -> str:
    return f"{instant:%Y-%m-%d %H:%M} UTC"


def register(command: RegisterOfficer, state: Officer) -> list[OfficerEvent]:
    """Put an officer on the roster at a home station; the same registration again changes nothing,
    and again with another name records that name (OfficerRenamed): how a name is given to an
    officer registered without one, or corrected."""
    if state.registration is not None:
        held = state.registration
        if (held.collar_number, held.station_id) == (command.collar_number, command.station_id) and (
            command.district_id in (None, held.district_id)
        ):
            if command.name is None or command.name == held.name:
                return []
            return [OfficerRenamed(officer_id=state.officer_id, name=command.name, renamed_at=command.now)]
        raise Conflict(
            "officer_id",
            f"officer {state.officer_id} is already registered as collar number {held.collar_number}"
            f" at {held.station_id}",
        )
    try:
        station = state.county.station(command.station_id)
    except LookupError:
        raise Refusal("station_id", f"there is no station {command.station_id!r}") from None
    if command.district_id not in (None, station.district):
        raise Refusal(
            "district_id", f"{station.name} station is in {station.district}, not {command.district_id}"
        )
    return [
        OfficerRegistered(
            officer_id=state.officer_id,
            collar_number=command.collar_number,
            station_id=station.id,
            district_id=station.district,
            registered_at=command.now,
            name=command.name,
        )
    ]


def _place(command: AssignDuty, home: Registration, state: Officer) -> tuple[str | None, str]:
    """The station (if any) and district of a duty, checked against the county's reference data."""
    county = state.county
    station = None
    if command.station_id is not None:
        if command.duty == "diary-car":
            raise Refusal("station_id", "a diary car serves a whole district, not a station")
        try:
            station = county.station(command.station_id)
        except LookupError:
            raise Refusal("station_id", f"there is no station {command.station_id!r}") from None
    if command.duty == "appointments":
        if station is None:
            raise Refusal("station_id", "appointment duty is at a station: name the station")
        if not station.offers_appointments:
            raise Refusal("station_id", f"{station.name} station has no appointment room")
    district_id = command.district_id or (station.district if station else home.district_id)
    try:
        county.district(district_id)
    except LookupError:
        raise Refusal("district_id", f"there is no district {district_id!r}") from None
    if station is not None and station.district != district_id:
        raise Refusal("district_id", f"{station.name} station is in {station.district}, not {district_id}")
    return (station.id if station else None), district_id


def assign(command: AssignDuty, state: Officer) -> list[OfficerEvent]:
    """Put the officer on a duty; refused when it clashes with a duty already held."""
    if state.registration is None:
        raise UnknownOfficer(state.officer_id)
    station_id, district_id = _place(command, state.registration, state)
    asked = (command.duty, station_id, district_id, command.starts_at, command.ends_at)
    existing = state.duty(command.duty_id)
    if existing is not None:
        held = (existing.duty, existing.station_id, existing.district_id, existing.starts_at,
                existing.planned_ends_at)  # fmt: skip
        if held == asked:
            return []
        raise Conflict(
            "duty_id",
            f"duty {command.duty_id} is already {existing.place} from {_when(existing.starts_at)}"
            f" to {_when(existing.planned_ends_at)}; give a new duty a new id",
        )
    if command.ends_at <= command.starts_at:
        raise Refusal("ends_at", "a duty must end after it starts")
    if command.ends_at - command.starts_at > LONGEST_DUTY:
        raise Refusal("ends_at", "a duty is one shift: at most 24 hours")
    if command.ends_at <= command.now:
        raise Refusal("ends_at", "that duty would already be over")
    clashes = state.clashes(command.starts_at, command.ends_at)
    if clashes:
        raise DutyClash(state.officer_id, min(clashes, key=lambda d: d.starts_at))
    return [
        DutyAssigned(
            officer_id=state.officer_id,
            duty_id=command.duty_id,
            duty=command.duty,
            station_id=station_id,
            district_id=district_id,
            starts_at=command.starts_at,
            ends_at=command.ends_at,
            assigned_at=command.now,
        )
    ]


def _ending(duty: RosteredDuty, command: EndDuty) -> datetime:
    """When the duty ends: as asked, or now, but never before it starts nor after it was to end."""
    if command.ends_at is not None:
        if command.ends_at > duty.planned_ends_at:
            raise Refusal(
                "ends_at",
                f"the duty was to end at {_when(duty.planned_ends_at)}; ending it cannot lengthen it:"
                " assign another duty for the extra time",
            )
        if command.ends_at < duty.starts_at:
            raise Refusal(
                "ends_at", f"the duty starts at {_when(duty.starts_at)}: end it then to call it off"
            )
        return command.ends_at
    return min(max(command.now, duty.starts_at), duty.planned_ends_at)


def end(command: EndDuty, state: Officer) -> list[OfficerEvent]:
    """End a duty early or as planned; a duty already ended stays as it ended."""
    if state.registration is None:
        raise UnknownOfficer(state.officer_id)
    duty = state.duty(command.duty_id)
    if duty is None:
        raise UnknownDuty(command.duty_id)
    if duty.ended:
        return []
    ends_at = _ending(duty, command)
    return [
        DutyEnded(
            officer_id=state.officer_id,
            duty_id=duty.duty_id,
            ends_at=ends_at,
            early=ends_at < duty.planned_ends_at,
            reason=command.reason,
            ended_at=command.now,
            duty=duty.duty,
            station_id=duty.station_id,
            district_id=duty.district_id,
            starts_at=duty.starts_at,
        )
    ]
