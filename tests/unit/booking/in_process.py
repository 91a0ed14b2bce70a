"""Booking's handlers in-process: the in-memory event store, views and key store, the real county."""

from __future__ import annotations

from datetime import date

from services.booking.adapters.memory_views import MemoryBookingViews
from services.booking.app.forms import BookingForm
from services.booking.app.handlers import BookingHandlers
from services.common.config import Settings
from services.common.memory_store import MemoryEventStore
from services.common.shredding import MemoryKeyStore
from services.common.unit_of_work import Metadata
from tests.unit.booking.builders import COUNTY, MONDAY, NOW, at

META = Metadata(correlation_id="call-1", actor="call-taker:ct-1", now=NOW)


async def booking_service() -> tuple[BookingHandlers, MemoryEventStore[MemoryBookingViews]]:
    """Booking as a call taker meets it, seeded with the county, nobody on duty yet."""
    store: MemoryEventStore[MemoryBookingViews] = MemoryEventStore(
        "urn:test:booking", lambda _: MemoryBookingViews()
    )
    handlers = BookingHandlers(store, MemoryKeyStore(), Settings(token_secret="s"), "urn:test:booking")
    await handlers.seed_reference(COUNTY, META)
    return handlers, store


async def on_duty(
    store: MemoryEventStore[MemoryBookingViews], officer: str, station: str = "cheshunt", day: date = MONDAY
) -> None:
    """An officer on appointment duty at a station from 8am to 10pm (London)."""
    await store.views.record_duty(f"duty-{officer}-{day}", officer, "appointments", station, "broxbourne",
                                  at(day, 8), at(day, 22))  # fmt: skip


def form(start: str = "17:00", *, day: date = MONDAY, request_id: str | None = None) -> BookingForm:
    """A call taker's booking form."""
    return BookingForm.model_validate(
        {
            "day": day.isoformat(),
            "start": start,
            "incident_grade": "scheduled",
            "request_id": request_id,
            "caller": {"name": "Jane Citizen", "phone": "07700 900123"},
            "briefing": {
                "case_reference": "41/12345/26",
                "summary": "Bike stolen",
                "thrive_risk": "low",
                "safe_to_text": True,
                "safe_to_call": True,
            },
        }
    )
