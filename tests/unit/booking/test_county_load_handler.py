"""Loading the county in-process and over HTTP: refused whole, or recorded; nothing half done."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from schemas.reference import CountyReferenceLoaded
from services.booking.app.handlers import BookingHandlers
from services.booking.app.lifecycle import Lifecycle
from services.booking.domain import reference as county_reference
from services.booking.domain.county_checks import CountyRefused
from services.booking.domain.stranded import WouldStrand
from services.booking.main import create_app
from services.common.auth import Role
from services.common.config import Settings
from services.common.reference import County
from services.common.shredding import MemoryKeyStore
from services.common.token_keys import local_issuer
from tests.unit.booking.builders import COUNTY, MONDAY, CountingStore
from tests.unit.booking.in_process import META, form, on_duty

# Far enough ahead that the real clock of an HTTP call still finds it to come.
LATER_MONDAY = date(2030, 6, 17)
WITHOUT_CHESHUNT = COUNTY.model_copy(
    update={"stations": tuple(s for s in COUNTY.stations if s.id != "cheshunt")}
)
WATFORD_RENAMED = COUNTY.model_copy(
    update={
        "stations": tuple(
            s.model_copy(update={"name": "Watford Central"}) if s.id == "watford" else s
            for s in COUNTY.stations
        )
    }
)


async def booked_at_cheshunt(day: date = MONDAY) -> tuple[BookingHandlers, CountingStore, str]:
    """Booking in-process, the county in force, one appointment booked at Cheshunt on ``day``."""
    store = CountingStore("urn:test:booking")
    handlers = BookingHandlers(store, MemoryKeyStore(), Settings(token_secret="s"), store.source)
    await handlers.seed_reference(COUNTY, META)
    await on_duty(store, "officer-a", day=day)
    booked = await handlers.book("station", "cheshunt", form(day=day), META)
    return handlers, store, booked.appointment_id


def versions(store: CountingStore) -> int:
    return sum(
        1
        for e in store.events(county_reference.STREAM)
        if e.envelope.event_type == CountyReferenceLoaded.__name__
    )


class TestInProcess:
    async def test_a_load_stranding_a_booking_is_refused_and_the_county_in_force_stays(self) -> None:
        handlers, store, _ = await booked_at_cheshunt()

        with pytest.raises(WouldStrand) as refused:
            await handlers.seed_reference(WITHOUT_CHESHUNT, META)

        assert [(s.place_id, s.appointments, s.first_day) for s in refused.value.stranded] == [
            ("cheshunt", 1, MONDAY)
        ]
        assert handlers.county == COUNTY and versions(store) == 1

    async def test_once_the_booking_is_cancelled_the_same_load_is_recorded(self) -> None:
        handlers, store, appointment_id = await booked_at_cheshunt()
        await Lifecycle(handlers).cancel(appointment_id, "public", "no-longer-needed", META)

        assert await handlers.seed_reference(WITHOUT_CHESHUNT, META) is True
        assert handlers.county == WITHOUT_CHESHUNT and versions(store) == 2

    async def test_a_load_changing_another_station_reads_none_of_cheshunt_s_days(self) -> None:
        handlers, store, _ = await booked_at_cheshunt()
        store.loaded.clear()

        assert await handlers.seed_reference(WATFORD_RENAMED, META) is True
        assert not [s for s in store.loaded if s.startswith("station:")]

    async def test_a_document_that_is_not_whole_is_refused_with_every_problem(self) -> None:
        handlers, store, _ = await booked_at_cheshunt()
        empty = COUNTY.model_copy(update={"districts": (), "stations": ()})

        with pytest.raises(CountyRefused) as refused:
            await handlers.seed_reference(empty, META)

        assert [p.field for p in refused.value.problems] == ["districts", "stations"]
        assert versions(store) == 1


async def put_county(handlers: BookingHandlers, body: object) -> httpx.Response:
    app = create_app()
    app.state.handlers = handlers
    token = local_issuer().token(Role.ADMIN, "seed")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://booking") as client:
        return await client.put("/reference/county", json=body, headers={"Authorization": f"Bearer {token}"})


def document(county: County) -> object:
    return county.model_dump(mode="json")


class TestOverHttp:
    async def test_a_load_stranding_bookings_answers_409_listing_what_it_would_strand(self) -> None:
        handlers, _, _ = await booked_at_cheshunt(LATER_MONDAY)

        response = await put_county(handlers, document(WITHOUT_CHESHUNT))

        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "would-strand"
        removed = "station cheshunt would be removed"
        assert body["errors"] == [
            {
                "field": "stations",
                "reason": f"{removed}, stranding 1 booked appointment (the first on Monday 17 June 2030)",
            }
        ]
        assert body["stranded"] == [
            {"place": "station", "place_id": "cheshunt", "room_id": None, "why": removed,
             "appointments": 1, "first_day": "2030-06-17"}
        ]  # fmt: skip
        assert "Jane" not in response.text and "07700" not in response.text

    async def test_a_document_that_is_not_whole_answers_422_naming_each_field(self) -> None:
        handlers, _, _ = await booked_at_cheshunt()
        hertford = next(i for i, s in enumerate(COUNTY.stations) if s.id == "hertford")
        broken = document(COUNTY)
        assert isinstance(broken, dict)
        broken["stations"][hertford]["rooms"] = []
        broken["districts"][0]["diary_car"]["windows"] = []

        response = await put_county(handlers, broken)

        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [
            "districts.0.diary_car.windows",
            f"stations.{hertford}.rooms",
        ]

    async def test_an_id_twice_answers_422_naming_the_field(self) -> None:
        handlers, _, _ = await booked_at_cheshunt()
        twice = document(COUNTY)
        assert isinstance(twice, dict)
        twice["stations"].append(twice["stations"][-1])

        response = await put_county(handlers, twice)

        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "stations", "reason": "Value error, a station id appears twice: welwyn-garden-city"}
        ]

    async def test_the_reviewed_county_again_changes_nothing(self) -> None:
        handlers, _, _ = await booked_at_cheshunt()

        response = await put_county(handlers, document(COUNTY))

        assert response.status_code == 200 and response.json()["changed"] is False
