"""Finding appointments by case reference and by the caller's phone, and a diary's moved-away list.

On the real servers: officer 5901 (collar number) is the only one on appointment duty at Stevenage
on 8 and 9 May 2029, and officer 5902 is registered but on no duty. Three callers are booked over
booking's HTTP API on the 8th; one is moved by the caller to the 9th. The projections' POST
/appointments/search finds them by case reference (any case) and by phone (typed another way),
the moved one where it is now; officer 5901 finds theirs, officer 5902 none, the SMS gateway is
refused; the phone is in clear nowhere in the projections' database. The 8th's moved-away list
holds the moved appointment with where it went, the time it had and why; the 9th's holds none.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from schemas.roster import OfficerRegistered
from services.common.auth import Role
from services.common.config import Settings
from services.projections.adapters.finder import subjects_of
from tests.support import roster
from tests.support.services import TEST_SECRET, ServiceProcess, auth, wait_for_capacity

pytestmark = pytest.mark.integration
STATION, DAY, NEXT_DAY = "stevenage", "2029-05-08", "2029-05-09"
OFFICER, IDLE = "officer-find-5901", "officer-find-5902"
PHONE, OTHER_PHONE = "07700 900471", "07700 900472"
CASE, OTHER_CASE = "41/59010/29", "41/59011/29"


async def book(booking: ServiceProcess, start: str, phone: str, case_reference: str) -> str:
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-find")) as client:
        booked = await client.post(f"/stations/{STATION}/appointments", json={
            "day": DAY, "start": start, "incident_grade": "scheduled",
            "caller": {"name": "Ottoline Fernsby", "phone": phone},
            "briefing": {"case_reference": case_reference, "summary": "Wallet taken on the train",
                         "thrive_risk": "low", "safe_to_text": True, "safe_to_call": True},
        })  # fmt: skip
    assert booked.status_code == 201, booked.text
    appointment_id: str = booked.json()["appointment_id"]
    return appointment_id


async def search(projections: ServiceProcess, role: Role, subject: str, **body: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(role, subject)) as client:
        return await client.post("/appointments/search", json=body)


async def found_when(
    projections: ServiceProcess, wanted: set[str], ready: Any = None, **body: str
) -> list[dict[str, Any]]:
    """A supervisor's search once it finds exactly ``wanted`` (and ``ready`` holds of the answer)."""
    for _ in range(300):
        response = await search(projections, Role.SUPERVISOR, "ps-find", **body)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["appointments"]
        if {a["appointment_id"] for a in found} == wanted and (ready is None or ready(found)):
            return found
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the projections never found {sorted(wanted)}")


async def moved_away(projections: ServiceProcess, day: str) -> dict[str, Any]:
    headers = auth(Role.CALL_TAKER, "ct-find")
    async with httpx.AsyncClient(base_url=projections.url, headers=headers) as client:
        response = await client.get(f"/diaries/stations/{STATION}/{day}/moved-away")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer: dict[str, Any] = response.json()
    return answer


async def test_appointments_are_found_by_case_reference_and_phone_and_moves_show_where_they_went(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    now = datetime.now(UTC)
    registered = [
        OfficerRegistered(officer_id=officer, collar_number=collar, station_id=STATION,
                          district_id="stevenage", registered_at=now)
        for officer, collar in ((OFFICER, "5901"), (IDLE, "5902"))
    ]  # fmt: skip
    duties = [
        roster.duty(OFFICER, station=STATION, district="stevenage", starts_at=starts,
                    ends_at=starts + timedelta(hours=4))
        for starts in (datetime(2029, 5, 8, 15, tzinfo=UTC), datetime(2029, 5, 9, 15, tzinfo=UTC))
    ]  # fmt: skip
    await roster.publish(test_settings, [*registered, *duties])
    await wait_for_capacity(booking, STATION, DAY)
    await wait_for_capacity(booking, STATION, NEXT_DAY)
    first = await book(booking, "17:00", PHONE, CASE)
    second = await book(booking, "18:00", PHONE, OTHER_CASE)
    third = await book(booking, "19:00", OTHER_PHONE, CASE)

    # The caller of the first asks to come the next day instead.
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-find")) as client:
        body = {"day": NEXT_DAY, "start": "18:00", "initiated_by": "public", "reason": "caller-asked"}
        moved = await client.post(f"/appointments/{first}/reschedule", json=body)
    assert moved.status_code == 200, moved.text

    # By case reference, in any case and with spaces around it; the moved one where it is now.
    def settled(found: list[dict[str, Any]]) -> bool:
        return any(a["appointment_id"] == first and a["day"] == NEXT_DAY for a in found)

    by_case = await found_when(projections, {first, third}, settled, case_reference=f"  {CASE.lower()} ")
    shown = {a["appointment_id"]: a for a in by_case}
    assert [a["appointment_id"] for a in by_case] == [first, third]  # latest first
    assert [(shown[a]["local_start"], shown[a]["status"]) for a in (first, third)] == [
        ("2029-05-09T18:00:00+01:00", "rescheduled"),
        ("2029-05-08T19:00:00+01:00", "booked"),
    ]
    assert {a["case_reference"] for a in by_case} == {CASE}
    assert {(a["place"], a["place_id"], a["officer_id"], a["kind"]) for a in by_case} == {
        ("station", STATION, OFFICER, "appointment")
    }

    # By phone, typed in another form: the same caller's two appointments, not the other caller's.
    by_phone = await found_when(projections, {first, second}, phone="+44 7700 900471")
    assert {a["case_reference"] for a in by_phone} == {CASE, OTHER_CASE}
    assert {a["appointment_id"] for a in await found_when(projections, {third}, phone=OTHER_PHONE)} == {third}
    assert await found_when(projections, set(), phone="07700 900479") == []
    assert await found_when(projections, set(), case_reference="41/00000/29") == []

    # Call takers and auditors find them too; the officer assigned finds theirs, another officer none.
    for role, subject in ((Role.CALL_TAKER, "ct-find"), (Role.AUDITOR, "au-find"), (Role.OFFICER, "pc-5901")):
        for body_ in ({"phone": PHONE}, {"case_reference": CASE}):
            response = await search(projections, role, subject, **body_)
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "no-store"
            assert len(response.json()["appointments"]) == 2, (role, body_)
    for body_ in ({"phone": PHONE}, {"case_reference": CASE}):
        other_officer = await search(projections, Role.OFFICER, "pc-5902", **body_)
        assert other_officer.status_code == 200 and other_officer.json()["appointments"] == []
        refused = await search(projections, Role.GATEWAY, "notify", **body_)
        assert refused.status_code == 403, refused.text
        assert first not in refused.text

    # A search by phone ties a number to its appointments: a consultation in the access log, with
    # who asked and whose appointments it showed, never the number. A case reference's is not one.
    caller = subjects_of(PHONE, TEST_SECRET, production=False)[0]
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.AUDITOR, "au-find")) as client:
        logged = (await client.get("/access-log", params={"subject": caller})).json()
    searches = [e for e in logged if e["what"] == "appointments found by the caller's phone number"]
    assert {(e["by"], e["channel"], e["operation"]) for e in searches} == {
        (f"{role.value}:{who}", "POST /appointments/search", "consultation")
        for role, who in (
            (Role.SUPERVISOR, "ps-find"), (Role.CALL_TAKER, "ct-find"), (Role.AUDITOR, "au-find"),
            (Role.OFFICER, "pc-5901"),
        )
    }  # fmt: skip
    assert {e["appointment_id"] for e in searches} == {first, second}
    assert all(e["subject_id"] == caller for e in searches)
    assert "900471" not in json.dumps(logged)

    # Neither, both, or a phone that is not one: 422 naming the field, the value never repeated.
    for body_, field in (
        ({}, "case_reference"),
        ({"phone": PHONE, "case_reference": CASE}, "case_reference"),
        ({"phone": "call me maybe"}, "phone"),
    ):
        wrong = await search(projections, Role.CALL_TAKER, "ct-find", **body_)
        assert wrong.status_code == 422, wrong.text
        assert [e["field"] for e in wrong.json()["errors"]] == [field]
        assert "maybe" not in wrong.text

    # The projections hold the callers' numbers nowhere in clear: only the keyed hash of the events.
    db = await asyncpg.connect(test_settings.database_url("projections"))
    try:
        for table in await db.fetch(
            "select table_name from information_schema.tables where table_schema = 'public'"
        ):
            text = await db.fetchval(f"select string_agg(t::text, '') from \"{table['table_name']}\" t")
            assert "900471" not in (text or ""), table["table_name"]
    finally:
        await db.close()

    # The 8th's diary lists the two left; its moved-away list the first, with where it went and why.
    eighth = await moved_away(projections, DAY)
    assert eighth["day_display"] == "Tuesday 8 May 2029"
    (line,) = eighth["moved_away"]
    assert (line["appointment_id"], line["case_reference"], line["was_when"]) == (first, CASE, "5pm to 6pm")
    how = (line["initiated_by"], line["reason"], line["caller_to_be_told"])
    assert how == ("public", "caller-asked", False)
    went = line["went_to"]
    assert (went["place"], went["place_id"], went["day"], went["when"], went["status"]) == (
        "station", STATION, NEXT_DAY, "6pm to 7pm", "rescheduled",
    )  # fmt: skip
    assert went["day_display"] == "Wednesday 9 May 2029"
    assert (await moved_away(projections, NEXT_DAY))["moved_away"] == []
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        diary = (await client.get(f"/diaries/stations/{STATION}/{DAY}")).json()
        assert {a["appointment_id"] for a in diary["appointments"]} == {second, third}
        nowhere = await client.get(f"/diaries/stations/nowhere/{DAY}/moved-away")
        assert nowhere.status_code == 404
        # A diary car's day answers the same way (nothing of this test's moved from it).
        car = await client.get(f"/diaries/diary-cars/stevenage/{DAY}/moved-away")
        assert car.status_code == 200, car.text
        assert (car.json()["place"], car.json()["moved_away"]) == ("diary-car", [])
        no_district = await client.get(f"/diaries/diary-cars/nowhere/{DAY}/moved-away")
        assert no_district.status_code == 404 and no_district.json()["errors"][0]["field"] == "district_id"
        gateway = await client.get(
            f"/diaries/stations/{STATION}/{DAY}/moved-away", headers=auth(Role.GATEWAY, "notify")
        )
        assert gateway.status_code == 403
