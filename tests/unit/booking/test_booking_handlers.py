"""Booking's handlers, in-process: the unit of work over the in-memory store, no servers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.booking import AppointmentRescheduled, SlotBooked
from services.booking.app.lifecycle import Lifecycle
from services.booking.domain.errors import Refusal, RequestReused, SlotTaken, UnknownAppointment
from services.common.unit_of_work import as_domain_event
from tests.unit.booking.builders import MONDAY, NOW
from tests.unit.booking.in_process import META, booking_service, form, on_duty


async def test_a_booking_is_stored_sealed_with_an_outbox_row_and_placed() -> None:
    handlers, store = await booking_service()
    await on_duty(store, "officer-a")
    booked = await handlers.book("station", "cheshunt", form(), META)
    stream = f"station:cheshunt:{MONDAY}"
    events = [as_domain_event(e) for e in store.events(stream)]
    assert [type(e) for e in events] == [SlotBooked]
    assert isinstance(events[0], SlotBooked)
    assert events[0].appointment_id == booked.appointment_id and booked.appointment.officer_id == "officer-a"
    assert b"Jane" not in store.events(stream)[0].envelope.kafka_value()
    assert [o.topic for o in store.outbox if o.envelope.subject == stream] == ["booking.events"]
    assert await store.views.locate(booked.appointment_id) == stream


async def test_nobody_on_duty_means_no_slot_and_the_nearest_alternatives_come_from_around() -> None:
    handlers, store = await booking_service()
    await on_duty(store, "officer-a", day=MONDAY + timedelta(days=1))
    with pytest.raises(SlotTaken) as taken:
        await handlers.book("station", "cheshunt", form(), META)
    assert taken.value.alternatives, "the next day's free slots are offered"
    assert all(a.starts_at.date() > MONDAY for a in taken.value.alternatives)


async def test_the_second_caller_for_the_only_officer_is_refused_with_alternatives() -> None:
    handlers, store = await booking_service()
    await on_duty(store, "officer-a")
    await handlers.book("station", "cheshunt", form("17:00"), META)
    with pytest.raises(SlotTaken) as taken:
        await handlers.book("station", "cheshunt", form("17:00"), META)
    assert [a.starts_at.hour for a in taken.value.alternatives][:2] == [17, 18]  # 6pm, 7pm BST


async def test_a_retried_request_finds_its_booking_and_a_reused_id_is_refused() -> None:
    handlers, store = await booking_service()
    await on_duty(store, "officer-a")
    first = await handlers.book("station", "cheshunt", form(request_id="r-1"), META)
    again = await handlers.book("station", "cheshunt", form(request_id="r-1"), META)
    assert (again.appointment_id, again.again, first.again) == (first.appointment_id, True, False)
    assert len(store.events(f"station:cheshunt:{MONDAY}")) == 1
    with pytest.raises(RequestReused):
        await handlers.book("station", "cheshunt", form("18:00", request_id="r-1"), META)


async def test_free_slots_over_a_range_follow_the_duties_of_each_day() -> None:
    handlers, store = await booking_service()
    await on_duty(store, "officer-a", day=MONDAY + timedelta(days=2))
    slots = await handlers.free_slots("station", "cheshunt", MONDAY, MONDAY + timedelta(days=6), NOW)
    assert slots and {s.starts_at.date() for s in slots} == {MONDAY + timedelta(days=2)}


async def test_rescheduling_to_another_day_moves_the_appointment_in_one_unit() -> None:
    handlers, store = await booking_service()
    tuesday = MONDAY + timedelta(days=1)
    await on_duty(store, "officer-a")
    await on_duty(store, "officer-b", day=tuesday)
    booked = await handlers.book("station", "cheshunt", form(), META)
    events = await Lifecycle(handlers).reschedule(
        booked.appointment_id, tuesday, form().start, "public", "caller-asked", META
    )
    assert [e.event_type for e in events] == ["AppointmentRescheduled", "AppointmentMovedOut"]
    assert await store.views.locate(booked.appointment_id) == f"station:cheshunt:{tuesday}"
    with pytest.raises(UnknownAppointment):
        await Lifecycle(handlers).cancel("nobody", "public", "no-longer-needed", META)


async def test_staff_words_on_a_move_are_sealed_under_the_callers_key_and_go_with_it() -> None:
    handlers, store = await booking_service()
    tuesday = MONDAY + timedelta(days=1)
    await on_duty(store, "officer-a")
    await on_duty(store, "officer-b", day=tuesday)
    booked = await handlers.book("station", "cheshunt", form(), META)
    words = "caller's partner works nights"
    moved = await Lifecycle(handlers).reschedule(
        booked.appointment_id, tuesday, form().start, "police", "officer-unavailable", META, note=words
    )
    arrived = moved[0]
    assert isinstance(arrived, AppointmentRescheduled) and arrived.note is not None
    (first,) = [as_domain_event(e) for e in store.events(f"station:cheshunt:{MONDAY}")][:1]
    assert isinstance(first, SlotBooked)
    assert arrived.subject_id == first.caller.subject_id == arrived.note.subject_id
    assert await handlers.keys.open(arrived.note) == words
    assert words.encode() not in b"".join(e.envelope.kafka_value() for e in store.events(arrived.diary))

    # On its new day the appointment still knows whose key a later note goes under: once the
    # caller is erased, no note can be kept for them.
    missed_note = "came to the wrong station"
    await handlers.keys.erase(arrived.subject_id or "", "test")
    with pytest.raises(Refusal) as refused:
        await Lifecycle(handlers).cancel(booked.appointment_id, "public", "other", META, note=missed_note)
    assert refused.value.field == "note" and "erased" in refused.value.reason
