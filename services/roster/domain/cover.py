"""Who is on appointment duty where and when, net of withdrawals: the roster as people read it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from schemas.booking import Place
from services.roster.domain.state import Officer, RosteredDuty, Withdrawal

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Cover:
    """One officer's appointment or diary-car duty at a place, and the spans they can really take."""

    officer_id: str
    collar_number: str
    duty: RosteredDuty
    available: tuple[Span, ...]
    withdrawals: tuple[Withdrawal, ...]
    name: str | None = None


def net_of(span: Span, holes: Iterable[Span]) -> tuple[Span, ...]:
    """What is left of ``span`` once every hole is cut out of it, in time order."""
    left = [span]
    for hole_start, hole_end in holes:
        cut: list[Span] = []
        for start, end in left:
            if hole_end <= start or end <= hole_start:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if hole_end < end:
                cut.append((hole_end, end))
        left = cut
    return tuple(sorted(left))


def serves(duty: RosteredDuty, place: Place, place_id: str) -> bool:
    """Whether a duty gives capacity to this station (appointments) or district's diary car."""
    if place == "station":
        return duty.duty == "appointments" and duty.station_id == place_id
    return duty.duty == "diary-car" and duty.district_id == place_id


def cover_at(
    officer: Officer, place: Place, place_id: str, starts_at: datetime, ends_at: datetime
) -> list[Cover]:
    """The officer's duties serving a place within [starts_at, ends_at), each net of withdrawals."""
    if officer.registration is None:
        return []
    found = []
    for duty in officer.duties:
        if not (serves(duty, place, place_id) and duty.overlaps(starts_at, ends_at)):
            continue
        cutting = tuple(
            w for w in officer.withdrawals if w.starts_at < duty.ends_at and duty.starts_at < w.ends_at
        )
        available = net_of((duty.starts_at, duty.ends_at), ((w.starts_at, w.ends_at) for w in cutting))
        held = officer.registration
        found.append(Cover(officer.officer_id, held.collar_number, duty, available, cutting, held.name))
    return found
