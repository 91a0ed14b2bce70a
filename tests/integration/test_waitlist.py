"""The waitlist on the real services: a freed slot is offered to the caller waiting, taken or lapsing.

Bishop's Stortford (open Tuesday, Thursday and Saturday; one room) in April 2027, which no
other test books: each test fills a day, puts callers on its waitlist, frees a slot and
watches booking.events.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from tests.integration.test_first_flow import booking_form
from tests.integration.test_withdrawals import events_for
from tests.support import roster
from tests.support.history import channels
from tests.support.services import ServiceProcess, auth, wait_for_capacity

pytestmark = pytest.mark.integration
STATION = "bishops-stortford"


def waitlist_form(day: str, to_day: str | None = None, **extra: Any) -> dict[str, Any]:
    """A caller for whom nothing suited, waiting at Bishop's Stortford from ``day`` to ``to_day``."""
    form = booking_form(day, "17:00", phone="07700 900456")
    del form["day"], form["start"]
    return {
        **form,
        "place": "station",
        "place_id": STATION,
        "from_day": day,
        "to_day": to_day or day,
        **extra,
    }


async def on_duty(booking: ServiceProcess, settings: Settings, day: str) -> None:
    """An officer of our own on appointment duty at the station through April 2027."""
    await roster.publish(
        settings,
        [
            roster.duty(
                "officer-bs-waitlist",
                station=STATION,
                district="east-hertfordshire",
                starts_at=datetime(2027, 4, 1, tzinfo=UTC),
                ends_at=datetime(2027, 5, 1, tzinfo=UTC),
            )
        ],
    )
    await wait_for_capacity(booking, STATION, day)


async def fill(client: httpx.AsyncClient, day: str) -> dict[str, str]:
    """Book every slot of the day (5pm, 6pm, 7pm); their appointment ids by start."""
    booked: dict[str, str] = {}
    for start in ("17:00", "18:00", "19:00"):
        response = await client.post(f"/stations/{STATION}/appointments", json=booking_form(day, start))
        assert response.status_code == 201, response.text
        booked[start] = response.json()["appointment_id"]
    return booked


async def join(client: httpx.AsyncClient, form: dict[str, Any]) -> str:
    response = await client.post("/waitlist", json=form)
    assert response.status_code == 201, response.text
    appointment_id: str = response.json()["appointment_id"]
    return appointment_id


async def entry_becomes(
    client: httpx.AsyncClient, appointment_id: str, status: str, wait_seconds: float = 30
) -> dict[str, Any]:
    """The waitlist entry once it has the status, waiting for the offer process."""
    deadline = time.monotonic() + wait_seconds
    entry: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await client.get(f"/waitlist/{appointment_id}")
        assert response.status_code == 200, response.text
        entry = response.json()
        if entry["status"] == status:
            return entry
        await asyncio.sleep(0.2)
    raise AssertionError(f"{appointment_id} never became {status}: {entry}")


async def test_a_cancellation_offers_the_freed_slot_to_the_caller_waiting_who_takes_it(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    await on_duty(booking, test_settings, "2027-04-06")
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-wait")) as client:
        booked = await fill(client, "2027-04-06")
        waiting = await join(client, waitlist_form("2027-04-06", request_id="wait-req-1"))
        assert await join(client, waitlist_form("2027-04-06", request_id="wait-req-1")) == waiting
        elsewhere = await client.post(
            "/waitlist", json=waitlist_form("2027-04-06", request_id="wait-req-1", place_id="hatfield")
        )
        assert elsewhere.status_code == 409, elsewhere.text
        assert (await client.get(f"/waitlist/{waiting}")).json()["status"] == "waiting"

        cancelled = await client.post(
            f"/appointments/{booked['18:00']}/cancel",
            json={"initiated_by": "public", "reason": "no-longer-needed"},
        )
        assert cancelled.status_code == 200, cancelled.text
        offered = await entry_becomes(client, waiting, "offered")
        assert (offered["starts_at"], offered["when"]) == ("2027-04-06T17:00:00Z", "6pm to 7pm")
        # The slot is held for the caller waiting: nobody else can book it meanwhile.
        other = await client.post(
            f"/stations/{STATION}/appointments", json=booking_form("2027-04-06", "18:00")
        )
        assert other.status_code == 409, other.text

        accepted = await client.post(f"/offers/{waiting}/accept")
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert body["events"] == ["SlotBooked", "WaitlistLeft"]
        assert (body["appointment_id"], body["starts_at"]) == (waiting, "2027-04-06T17:00:00Z")
        again = await client.post(f"/offers/{waiting}/accept")
        assert (again.status_code, again.json()["events"]) == (200, [])
        assert (await client.get(f"/waitlist/{waiting}")).json()["status"] == "booked"

    events = await events_for(test_settings, waiting, 4)
    assert [name for name, _ in events] == [
        "WaitlistJoined",
        "AppointmentOffered",
        "SlotBooked",
        "WaitlistLeft",
    ]
    joined, offer, slot, left = (data for _, data in events)
    assert joined["caller"]["name"]["ciphertext"]  # sealed, never in clear
    assert "Jane" not in str(joined)
    assert offer["slot"]["starts_at"] == slot["starts_at"] == "2027-04-06T17:00:00Z"
    assert left["booked"] is True
    # The offer was the waitlist's own doing; joining and accepting, the call taker's over HTTP.
    through = await channels(projections, waiting, "WaitlistLeft")
    assert through == {
        "WaitlistJoined": "http",
        "AppointmentOffered": "waitlist",
        "SlotBooked": "http",
        "WaitlistLeft": "http",
    }


async def test_an_offer_not_taken_lapses_and_the_slot_goes_to_the_next_caller_waiting(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, _ = booking_and_projections
    await on_duty(booking, test_settings, "2027-04-08")
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-wait")) as client:
        booked = await fill(client, "2027-04-08")
        first = await join(client, waitlist_form("2027-04-08", offer_hold_seconds=2))
        second = await join(client, waitlist_form("2027-04-08"))

        await client.post(
            f"/appointments/{booked['17:00']}/cancel", json={"initiated_by": "police", "reason": "duplicate"}
        )
        # The first caller is offered it for two seconds; then it lapses and moves on.
        offered = await entry_becomes(client, second, "offered")
        assert offered["starts_at"] == "2027-04-08T16:00:00Z"
        # The first caller let it lapse: they still wait, but are not offered that day again.
        assert (await client.get(f"/waitlist/{first}")).json()["status"] == "waiting"
        late = await client.post(f"/offers/{first}/accept")
        assert late.status_code == 409, late.text
        assert "lapsed" in late.json()["errors"][0]["reason"]

        declined = await client.post(f"/offers/{second}/decline", json={"leave_waitlist": True})
        assert declined.json()["events"] == ["AppointmentCancelled", "WaitlistLeft"]
        # Nobody left who may be offered it: the slot is free for anyone to book.
        rebooked = await client.post(
            f"/stations/{STATION}/appointments", json=booking_form("2027-04-08", "17:00")
        )
        assert rebooked.status_code == 201, rebooked.text
        left = await client.post(f"/waitlist/{first}/leave")
        assert left.json()["events"] == ["WaitlistLeft"]

    first_events = await events_for(test_settings, first, 4)
    assert [name for name, _ in first_events] == [
        "WaitlistJoined",
        "AppointmentOffered",
        "OfferLapsed",
        "WaitlistLeft",
    ]
    second_events = await events_for(test_settings, second, 4)
    assert [name for name, _ in second_events] == [
        "WaitlistJoined",
        "AppointmentOffered",
        "AppointmentCancelled",
        "WaitlistLeft",
    ]
    lapse_offer, next_offer = first_events[1][1], second_events[1][1]
    assert first_events[3][1]["booked"] is False
    assert lapse_offer["slot"] == next_offer["slot"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"incident_grade": "urgent"}, "incident_grade"),
        ({"from_day": "2027-04-10", "to_day": "2027-04-06"}, "to_day"),
        ({"from_day": "2027-04-01", "to_day": "2027-04-30"}, "to_day"),
        ({"from_day": "2020-01-01", "to_day": "2020-01-02"}, "to_day"),
        ({"place_id": "gotham"}, "place_id"),
        ({"place": "diary-car", "place_id": "east-hertfordshire"}, "caller.address"),
        ({"caller": {"name": "Jane Citizen", "phone": "12"}}, "caller.phone"),
    ],
)
async def test_joining_is_refused_with_the_field_and_the_reason(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], change: dict[str, Any], field: str
) -> None:
    booking, _ = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        response = await client.post("/waitlist", json={**waitlist_form("2027-04-06"), **change})
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field and error["reason"]


async def test_an_officer_cannot_put_a_caller_on_the_waitlist(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess],
) -> None:
    booking, _ = booking_and_projections
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.OFFICER)) as client:
        response = await client.post("/waitlist", json=waitlist_form("2027-04-06"))
    assert response.status_code == 403, response.text


async def test_new_duty_is_offered_to_the_caller_waiting_for_that_day(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, _ = booking_and_projections
    # Cheshunt keeps its own roster: nobody is on duty there on Tuesday 13 July 2027 yet.
    form = {**waitlist_form("2027-07-13"), "place_id": "cheshunt"}
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-wait")) as client:
        waiting = await join(client, form)
        assert (await client.get(f"/waitlist/{waiting}")).json()["status"] == "waiting"

        await roster.publish(
            test_settings,
            [
                roster.duty(
                    "officer-ch-waitlist",
                    station="cheshunt",
                    district="broxbourne",
                    starts_at=datetime(2027, 7, 13, 16, tzinfo=UTC),  # 5pm to 6pm, London
                    ends_at=datetime(2027, 7, 13, 17, tzinfo=UTC),
                )
            ],
        )

        offered = await entry_becomes(client, waiting, "offered")
        assert (offered["starts_at"], offered["when"]) == ("2027-07-13T16:00:00Z", "5pm to 6pm")
        left = await client.post(f"/waitlist/{waiting}/leave")
        assert left.json()["events"] == ["AppointmentCancelled", "WaitlistLeft"]


async def test_an_offer_lapses_by_its_deadline_after_the_service_was_restarted(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, _ = booking_and_projections
    await on_duty(booking, test_settings, "2027-04-13")
    headers = auth(Role.CALL_TAKER, "ct-wait")
    async with httpx.AsyncClient(base_url=booking.url, headers=headers) as client:
        booked = await fill(client, "2027-04-13")
        first = await join(client, waitlist_form("2027-04-13", offer_hold_seconds=15))
        second = await join(client, waitlist_form("2027-04-13"))
        await client.post(
            f"/appointments/{booked['19:00']}/cancel", json={"initiated_by": "public", "reason": "duplicate"}
        )
        offered = await entry_becomes(client, first, "offered")
        assert offered["starts_at"] == "2027-04-13T18:00:00Z"

    # A crash while the offer stands: nothing in memory survives it, the deadline's row does.
    booking.kill()
    await booking.start()

    async with httpx.AsyncClient(base_url=booking.url, headers=headers) as client:
        after = await entry_becomes(client, second, "offered", wait_seconds=90)
        assert after["starts_at"] == "2027-04-13T18:00:00Z"
        assert (await client.get(f"/waitlist/{first}")).json()["status"] == "waiting"
        for entry in (first, second):  # nobody left waiting for a later test's duty to offer to
            assert (await client.post(f"/waitlist/{entry}/leave")).status_code == 200

    lapsed = await events_for(test_settings, first, 3)
    assert [name for name, _ in lapsed][:3] == ["WaitlistJoined", "AppointmentOffered", "OfferLapsed"]
    lapsed_at, expired_at = lapsed[2][1]["lapsed_at"], lapsed[1][1]["expires_at"]
    assert datetime.fromisoformat(lapsed_at) >= datetime.fromisoformat(expired_at)


CAR_DISTRICT, CAR_DAY = "three-rivers", "2027-09-14"  # no other test books this diary car
ADDRESS = {"line1": "1 High Street", "town": "Rickmansworth", "postcode": "WD3 1AA"}


async def diary_car_lines(projections: ServiceProcess, district: str, day: str) -> list[dict[str, Any]]:
    """The diary-car diary the projections serve for a district's day."""
    async with httpx.AsyncClient(base_url=projections.url, headers=auth(Role.SUPERVISOR)) as client:
        response = await client.get(f"/diaries/diary-cars/{district}/{day}")
    assert response.status_code == 200, response.text
    assert (response.json()["place"], response.json()["place_id"]) == ("diary-car", district)
    lines: list[dict[str, Any]] = response.json()["appointments"]
    return lines


async def diary_car_shows(
    projections: ServiceProcess, district: str, day: str, wanted: dict[str, str], wait_seconds: float = 30
) -> list[dict[str, Any]]:
    """The diary-car diary once every wanted appointment shows with its status."""
    deadline = time.monotonic() + wait_seconds
    lines: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        lines = await diary_car_lines(projections, district, day)
        if wanted.items() <= {line["appointment_id"]: line["status"] for line in lines}.items():
            return lines
        await asyncio.sleep(0.2)
    raise AssertionError(f"the diary car's day never showed {wanted}: {lines}")


async def test_a_diary_car_window_held_for_the_caller_waiting_shows_in_that_diary_cars_diary(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    # Our own officer on the diary car from 10am to 2pm (British Summer Time): two windows.
    await roster.publish(
        test_settings,
        [
            roster.duty(
                "officer-tr-diary-car",
                station=None,
                district=CAR_DISTRICT,
                starts_at=datetime(2027, 9, 14, 9, tzinfo=UTC),
                ends_at=datetime(2027, 9, 14, 13, tzinfo=UTC),
            )
        ],
    )
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER, "ct-wait")) as client:
        free: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while len(free) < 2 and time.monotonic() < deadline:
            answer = await client.get(f"/diary-cars/{CAR_DISTRICT}/free-windows?from={CAR_DAY}&to={CAR_DAY}")
            free = answer.json() if answer.status_code == 200 else []
            await asyncio.sleep(0.2)
        assert [w["when"] for w in free] == ["10am to midday", "midday to 2pm"]
        visits: dict[str, str] = {}
        for start in ("10:00", "12:00"):
            form = booking_form(CAR_DAY, start)
            form["caller"]["address"] = ADDRESS
            response = await client.post(f"/diary-cars/{CAR_DISTRICT}/visits", json=form)
            assert response.status_code == 201, response.text
            visits[start] = response.json()["appointment_id"]
        waiting = await join(
            client, {**waitlist_form(CAR_DAY), "place": "diary-car", "place_id": CAR_DISTRICT,
                     "caller": {"name": "Jane Citizen", "phone": "07700 900456", "address": ADDRESS}},
        )  # fmt: skip
        cancelled = await client.post(
            f"/appointments/{visits['12:00']}/cancel", json={"initiated_by": "public", "reason": "duplicate"}
        )
        assert cancelled.status_code == 200, cancelled.text
        offered = await entry_becomes(client, waiting, "offered")
        assert offered["when"] == "midday to 2pm"

        # The held window is in the same diary as the diary car's booked visits.
        lines = await diary_car_shows(
            projections, CAR_DISTRICT, CAR_DAY,
            {visits["10:00"]: "booked", visits["12:00"]: "cancelled", waiting: "offered"},
        )  # fmt: skip
        [held] = [line for line in lines if line["appointment_id"] == waiting]
        assert (held["starts_at"], held["when"]) == ("2027-09-14T11:00:00Z", "midday to 2pm")

        accepted = await client.post(f"/offers/{waiting}/accept")
        assert accepted.json()["events"] == ["DiaryCarVisitBooked", "WaitlistLeft"]
        await diary_car_shows(projections, CAR_DISTRICT, CAR_DAY, {waiting: "booked"})
