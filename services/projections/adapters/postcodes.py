"""A caller's postcode -> the district whose diary car covers it, from the ONS Postcode Directory.

The county's seed has no postcode data, and a hand-written mapping would not be published fact.
The ONS Postcode Directory (ONSPD) is: a CSV of every UK postcode (``pcds``, the postcode with its
space; ``oslaua``, the GSS code of its local authority district; ``doterm``, the month it was
terminated, empty while live), shipped with a lookup of those codes' names (``LA_UA names and
codes UK as at MM_YY.csv``: a ``LADyyCD`` and a ``LADyyNM`` column). The district <-> code link
comes from that lookup: each of the county's districts is matched to the LAD of the same name
(case, spacing, punctuation and "&"/"and" aside); nothing is guessed.

Where it is kept, and why: a table of the projections database (migration 013), loaded by an
operator's ``appointments postcodes load`` as the database owner (as ``appointments replay``
writes), read by ``GET /postcodes/{postcode}`` beside the other questions call takers ask of the
read side, answered with the county the projections already hold (the district's diary car and
stations). It is published reference data, not built from the topics, so no consumer writes it
and a replay leaves it be; a store of its own would be one more database, role and migration
folder to run for one table. No personal data is kept (postcodes of places, not of callers) and
the postcode asked about is never logged.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from services.common.http import Authorized, problem, unknown
from services.common.reference import County
from services.common.runtime import Runtime
from services.projections.adapters.availability import county as latest_county
from services.projections.adapters.county import CountyNotReceived

router = APIRouter()

# A UK postcode, in any case, with spaces around it or between its outward code (area, district,
# perhaps a sub-district letter) and its inward code (sector digit, two unit letters): BS 7666's
# shape, as the ONSPD's. The published document carries this very pattern, so a postcode the
# document calls valid is never refused as malformed.
POSTCODE_PATTERN = r"^ *[A-Za-z]{1,2}[0-9][A-Za-z0-9]? *[0-9][A-Za-z]{2} *$"
_SHAPE = re.compile(POSTCODE_PATTERN)
SHAPE_REASON = (
    "not a UK postcode: give it as, for example, AL1 3JX (letters and digits, then a digit and two letters)"
)


class PostcodeShapeError(ValueError):
    """Text that is not shaped as a UK postcode."""


def normalised(text: str) -> str:
    """The postcode as the ONSPD's ``pcds`` writes it (upper case, one space before the last three);
    PostcodeShapeError if it is not shaped as a UK postcode."""
    if _SHAPE.fullmatch(text) is None:
        raise PostcodeShapeError(SHAPE_REASON)
    squeezed = text.replace(" ", "").upper()
    return f"{squeezed[:-3]} {squeezed[-3:]}"


def _shaped(value: object) -> object:
    if isinstance(value, str):
        normalised(value)  # a PostcodeShapeError is the field's 422, with its reason
    return value


# --- Reading the ONSPD (the loader's side: cli/postcodes.py) ---------------------------------------


class DirectoryError(ValueError):
    """A file that is not what the ONSPD ships, or a county the LAD names do not name."""


def name_key(name: str) -> str:
    """A district's name as matched: case, "&" for "and", punctuation and spacing set aside."""
    spaced = re.sub(r"[^a-z0-9]+", " ", name.lower().replace("&", " and "))
    return " ".join(spaced.split())


def _column(header: list[str], file: Path, what: str, *wanted: str, pattern: str | None = None) -> int:
    """The index of the first column named one of ``wanted`` (any case), else matching ``pattern``."""
    lowered = [h.strip().lower() for h in header]
    for name in wanted:
        if name in lowered:
            return lowered.index(name)
    if pattern is not None:
        for i, h in enumerate(lowered):
            if re.fullmatch(pattern, h):
                return i
    raise DirectoryError(f"{file.name} has no {what} column (its header: {', '.join(header[:12])})")


def lad_names(file: Path) -> dict[str, str]:
    """The LAD names lookup: GSS code -> English name (``LADyyCD``, ``LADyyNM``)."""
    with file.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        rows = csv.reader(handle)
        header = next(rows, None)
        if header is None:
            raise DirectoryError(f"{file.name} is empty")
        code = _column(header, file, "LAD code (such as LAD23CD)", pattern=r"la[a-z]*\d*cd")
        name = _column(header, file, "LAD name (such as LAD23NM)", pattern=r"la[a-z]*\d*nm")
        found = {
            r[code].strip(): r[name].strip() for r in rows if len(r) > max(code, name) and r[code].strip()
        }
    if not found:
        raise DirectoryError(f"{file.name} names no local authority district")
    return found


@dataclass(frozen=True)
class Unmatched:
    """A district of the county that no LAD of the names file is called, and the closest names."""

    district_id: str
    name: str
    closest: tuple[str, ...]


@dataclass(frozen=True)
class Matched:
    """LAD code -> the county's district id; and the districts no LAD name matched."""

    codes: dict[str, str]
    unmatched: tuple[Unmatched, ...]


def match_districts(county: County, names: dict[str, str]) -> Matched:
    """Each of the county's districts to every LAD code of the same name (as ``name_key`` reads it)."""
    by_key: dict[str, list[str]] = {}
    for code, name in names.items():
        by_key.setdefault(name_key(name), []).append(code)
    codes: dict[str, str] = {}
    unmatched: list[Unmatched] = []
    every_name = sorted(set(names.values()))
    for district in county.districts:
        found = by_key.get(name_key(district.name), [])
        for code in found:
            codes[code] = district.id
        if not found:
            closest = difflib.get_close_matches(district.name, every_name, n=3, cutoff=0.6)
            unmatched.append(Unmatched(district.id, district.name, tuple(closest)))
    return Matched(codes, tuple(unmatched))


@dataclass(frozen=True)
class Postcode:
    """One postcode of the county's districts, as the ONSPD gives it."""

    postcode: str
    district_id: str
    lad_code: str
    terminated: date | None


@dataclass
class Read:
    """What a pass over the ONSPD found of the county's districts."""

    rows: int = 0
    postcodes: dict[str, Postcode] = field(default_factory=dict)
    misshapen: int = 0  # rows of the county's districts whose postcode or doterm cannot be read

    def live(self) -> int:
        return sum(1 for p in self.postcodes.values() if p.terminated is None)

    def by_district(self) -> dict[str, int]:
        """Live postcodes per district id."""
        counts: dict[str, int] = {}
        for p in self.postcodes.values():
            if p.terminated is None:
                counts[p.district_id] = counts.get(p.district_id, 0) + 1
        return counts


def _terminated(doterm: str) -> date | None:
    """The ONSPD's ``doterm`` (YYYYMM; empty while live) as the first day of that month."""
    text = doterm.strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{6}", text):
        raise ValueError(f"doterm {text!r} is not YYYYMM")
    return date(int(text[:4]), int(text[4:]), 1)


def read_directory(file: Path, codes: dict[str, str]) -> Read:
    """One streaming pass over an ONSPD CSV, keeping the postcodes whose LAD code is in ``codes``."""
    read = Read()
    with file.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        rows = csv.reader(handle)
        header = next(rows, None)
        if header is None:
            raise DirectoryError(f"{file.name} is empty")
        pcds = _column(header, file, "pcds", "pcds")
        lad = _column(header, file, "oslaua (or LADyyCD)", "oslaua", pattern=r"lad\d{2}cd")
        doterm = _column(header, file, "doterm", "doterm")
        width = max(pcds, lad, doterm)
        for row in rows:
            read.rows += 1
            if len(row) <= width:
                continue
            district_id = codes.get(row[lad].strip())
            if district_id is None:
                continue
            try:
                postcode = normalised(row[pcds])
                terminated = _terminated(row[doterm])
            except ValueError:
                read.misshapen += 1
                continue
            read.postcodes[postcode] = Postcode(postcode, district_id, row[lad].strip(), terminated)
    return read


async def store(
    conn: asyncpg.Connection, read: Read, matched: Matched, source: str, names_source: str
) -> datetime:
    """Replace the postcodes with this release's, in one transaction; when it was loaded."""
    loaded_at = datetime.now(UTC)
    records: Iterable[tuple[str, str, str, date | None]] = (
        (p.postcode, p.district_id, p.lad_code, p.terminated) for p in read.postcodes.values()
    )
    async with conn.transaction():
        await conn.execute("delete from postcodes")
        await conn.copy_records_to_table(
            "postcodes", records=records, columns=["postcode", "district_id", "lad_code", "terminated"]
        )
        await conn.execute("delete from postcode_directory")
        await conn.execute(
            "insert into postcode_directory (source, names_source, loaded_at, live, terminated, districts)"
            " values ($1, $2, $3, $4, $5, $6::jsonb)",
            source, names_source, loaded_at, read.live(), len(read.postcodes) - read.live(),
            json.dumps({district: code for code, district in sorted(matched.codes.items())}),
        )  # fmt: skip
    return loaded_at


# --- Answering (the call taker's side) --------------------------------------------------------------


class PostcodeStation(BaseModel):
    """A station of the district."""

    station_id: str
    name: str
    offers_appointments: bool


class PostcodeDiaryCar(BaseModel):
    """The district's diary car (its diary and windows are named by the district's id)."""

    diary_car_id: str
    name: str
    district_id: str


class PostcodeDistrict(BaseModel):
    """The district a postcode is in, its diary car and its stations."""

    postcode: str = Field(description="As the ONSPD writes it: upper case, one space before the inward code.")
    district_id: str
    district_name: str
    lad_code: str = Field(description="The local authority district's GSS code (the ONSPD's oslaua).")
    diary_car: PostcodeDiaryCar
    stations: list[PostcodeStation] = Field(description="Those offering appointments first, then by name.")
    directory: str = Field(description="The ONSPD file the answer comes from.")
    directory_loaded_at: datetime


RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not a live postcode of the county's districts in the directory loaded."},
    503: {"description": "No postcode directory loaded, the county not yet received, or the database down."},
}


def _unavailable(detail: str, retry_after: int | None = None) -> JSONResponse:
    response = problem(503, detail, **({"retry_after_seconds": retry_after} if retry_after else {}))
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _month(day: date) -> str:
    return day.strftime("%B %Y")


def _answer(county: County, row: asyncpg.Record, directory: asyncpg.Record) -> PostcodeDistrict:
    try:
        district = county.district(row["district_id"])
    except LookupError:
        raise unknown(
            "postcode",
            f"{row['postcode']} is in a district the county's current reference data no longer has"
            f" ({row['district_id']})",
        ) from None
    stations = sorted(county.stations_in(district.id), key=lambda s: (not s.offers_appointments, s.name))
    car = district.diary_car
    return PostcodeDistrict(
        postcode=row["postcode"], district_id=district.id, district_name=district.name,
        lad_code=row["lad_code"],
        diary_car=PostcodeDiaryCar(diary_car_id=car.id, name=car.name, district_id=district.id),
        stations=[
            PostcodeStation(station_id=s.id, name=s.name, offers_appointments=s.offers_appointments)
            for s in stations
        ],
        directory=directory["source"], directory_loaded_at=directory["loaded_at"],
    )  # fmt: skip


PostcodePath = Annotated[
    str,
    BeforeValidator(_shaped),
    WithJsonSchema({"type": "string", "pattern": POSTCODE_PATTERN}),
    PathParam(description="A UK postcode, in any case, with or without its space."),
]


@router.get("/postcodes/{postcode}", response_model=PostcodeDistrict, responses=RESPONSES, tags=["places"])
async def postcode_district(
    request: Request, postcode: PostcodePath, _: Authorized
) -> PostcodeDistrict | JSONResponse:
    """Which of the county's districts a caller's postcode is in, its diary car and its stations
    (the ONS Postcode Directory as last loaded by ``appointments postcodes load``)."""
    asked = normalised(postcode)  # shaped as one: checked as the path was read
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.acquire() as conn:
        directory = await conn.fetchrow("select source, loaded_at from postcode_directory")
        if directory is None:
            return _unavailable(
                "no postcode directory loaded: an operator loads the ONS Postcode Directory with"
                " `appointments postcodes load` (see the README)"
            )
        row = await conn.fetchrow(
            "select postcode, district_id, lad_code, terminated from postcodes where postcode = $1", asked
        )
        found = await latest_county(conn)
    if found is None:
        waiting = CountyNotReceived()
        return _unavailable(str(waiting), waiting.retry_after_seconds)
    county = found[0]
    if row is None:
        raise unknown(
            "postcode",
            f"{asked} is not a postcode of {county.name}'s districts in the ONS Postcode Directory"
            f" loaded ({directory['source']})",
        )
    if row["terminated"] is not None:
        raise unknown(
            "postcode",
            f"{asked} was terminated in {_month(row['terminated'])}: ask the caller for the postcode"
            " the address has now",
        )
    return _answer(county, row, directory)
