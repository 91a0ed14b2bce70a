"""A caller's postcode -> the district's diary car: `appointments postcodes load`, then GET /postcodes.

On the real servers: the projections service (migration 013 applied at its start) with the county
seeded; the loader run as the operator runs it (its own process, as the database owner) on the
ONSPD-shaped files of tests/data/onspd. Before any load every lookup is a 503; a names file that
does not name a district stops the load and changes nothing; after a load a live postcode, typed
any way, answers its district, diary car and stations; a terminated one, one outside the county
and an unknown one are 404s saying which; a malformed one a 422; a second load replaces the first.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from tests.support.services import ServiceProcess, auth

pytestmark = pytest.mark.integration
DATA = Path(__file__).parents[1] / "data" / "onspd"
ONSPD = DATA / "ONSPD_TEST_UK.csv"
NAMES = DATA / "LA_UA names and codes UK as at 04_23.csv"
APPOINTMENTS = Path(sys.executable).parent / "appointments"


async def load(onspd: Path, names: Path, **env: str) -> tuple[int, str]:
    """`appointments postcodes load` in its own process (this run's stack, or as ``env`` says); its
    exit code and what it printed."""
    process = await asyncio.create_subprocess_exec(
        str(APPOINTMENTS), "postcodes", "load", str(onspd), "--names", str(names),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=os.environ | {"COLUMNS": "200", "NO_COLOR": "1"} | env,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, " ".join(out.decode().split())


async def look_up(
    projections: ServiceProcess, postcode: str, role: Role = Role.CALL_TAKER
) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(role, "ct-postcodes")) as client:
        response = await client.get(f"/postcodes/{quote(postcode)}")
    body: dict[str, Any] = response.json()
    return response.status_code, body


def reason(body: dict[str, Any]) -> str:
    [error] = body["errors"]
    assert error["field"] == "postcode"
    found: str = error["reason"]
    return found


async def test_an_operator_loads_the_directory_and_a_call_taker_finds_a_postcode_s_district(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings, tmp_path: Path
) -> None:
    _, projections = booking_and_projections
    owner = await asyncpg.connect(test_settings.database_url("projections"))
    try:
        await owner.execute("delete from postcodes; delete from postcode_directory")
    finally:
        await owner.close()

    # None loaded yet: a clear 503, whatever the postcode; a malformed one is the caller's error.
    status, body = await look_up(projections, "AL1 1AA")
    assert status == 503 and "no postcode directory loaded" in body["detail"], body
    status, body = await look_up(projections, "not a postcode")
    assert status == 422, body
    [error] = body["errors"]
    assert error["field"] == "path.postcode" and "not a UK postcode: give it as" in error["reason"], error

    # A names file that spells a district otherwise stops the load, naming it; nothing is loaded.
    herts = tmp_path / "names.csv"
    herts.write_text(NAMES.read_text().replace("East Hertfordshire", "East Herts"))
    code, said = await load(ONSPD, herts)
    assert code == 2, said
    assert (
        "Nothing loaded" in said
        and "districts has no local authority district of the same name in names.csv" in said
    )
    assert "East Hertfordshire [east-hertfordshire] (closest there: " in said and "East Herts)" in said
    assert (await look_up(projections, "AL1 1AA"))[0] == 503

    code, said = await load(ONSPD, NAMES)
    assert code == 0, said
    assert "Loaded 10 live postcodes (1 terminated, kept to say so) of 14 rows" in said

    # A live postcode, typed in any case and spacing: its district, diary car and stations.
    for typed in ("AL1 1AA", "al11aa", "  al1   1AA "):
        status, body = await look_up(projections, typed)
        assert status == 200, body
        assert (body["postcode"], body["district_id"], body["district_name"], body["lad_code"]) == (
            "AL1 1AA", "st-albans", "St Albans", "E07000240",
        )  # fmt: skip
    assert body["diary_car"] == {
        "diary_car_id": "st-albans-diary-car", "name": "St Albans diary car", "district_id": "st-albans",
    }  # fmt: skip
    stations = [(s["station_id"], s["offers_appointments"]) for s in body["stations"]]
    assert stations[0] == ("st-albans", True)
    assert ("harpenden", False) in stations
    assert body["directory"] == ONSPD.name
    status, body = await look_up(projections, "SG14 1AA", Role.SUPERVISOR)
    assert (status, body["district_id"]) == (200, "east-hertfordshire")
    assert [s["station_id"] for s in body["stations"] if s["offers_appointments"]] == [
        "bishops-stortford", "hertford",
    ]  # fmt: skip

    # Terminated, outside the county, unknown: 404s that say which.
    status, body = await look_up(projections, "AL1 9ZZ")
    assert status == 404 and "AL1 9ZZ was terminated in June 2019" in reason(body), body
    for outside in ("SW1A 2AA", "MK40 1AA", "ZZ9 9ZZ"):
        status, body = await look_up(projections, outside)
        assert status == 404, body
        assert f"{outside} is not a postcode of Hertfordshire's districts" in reason(body)
    status, body = await look_up(projections, "AL1 1A")
    assert status == 422, body

    # Who may ask: those who book.
    for role in (Role.OFFICER, Role.AUDITOR, Role.GATEWAY):
        assert (await look_up(projections, "AL1 1AA", role))[0] == 403, role
    assert (await look_up(projections, "AL1 1AA", Role.ADMIN))[0] == 200

    # A later release replaces the earlier one: AL1 1AA terminated since, AL3 4AA new. A release
    # with no live postcode left in a district is refused (a names file of another release).
    later = tmp_path / "ONSPD_LATER_UK.csv"
    later.write_text(ONSPD.read_text().replace("AL1 1AA,198001,,", "AL1 1AA,198001,202402,"))
    code, said = await load(later, NAMES)
    assert code == 2 and "has no live postcode in St Albans (E07000240)" in said, said
    assert (await look_up(projections, "AL1 1AA"))[0] == 200  # the refused release changed nothing
    new = "AL3 4AA,AL3  4AA,AL3 4AA,202402,,E10000015,E58000697,E07000240,E05012095,0,E92000001,,,51.8,-0.3"
    later.write_text(later.read_text() + new + "\n")
    code, said = await load(later, NAMES)
    assert code == 0 and "Loaded 10 live postcodes (2 terminated" in said, said
    assert (await look_up(projections, "AL3 4AA"))[1]["district_id"] == "st-albans"
    status, body = await look_up(projections, "al1 1aa")
    assert status == 404 and "terminated in February 2024" in reason(body), body
    status, body = await look_up(projections, "WD17 1AA")
    assert (status, body["district_id"], body["directory"]) == (200, "watford", later.name)
