"""The booked time holds: a withdrawn officer's appointments are reassigned, or moved, once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.common.auth import Role
from services.common.config import Settings
from tests.integration.test_first_flow import booking_form
from tests.support import roster
from tests.support.history import channels
from tests.support.kafka_reader import header, read_topic
from tests.support.services import ServiceProcess, auth, wait_for_capacity

pytestmark = pytest.mark.integration


def at(day: int, hour: int) -> datetime:
    """An instant in March 2027 (GMT: London time is UTC until the 28th)."""
    return datetime(2027, 3, day, hour, tzinfo=UTC)


async def events_for(settings: Settings, appointment_id: str, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The booking events of one appointment on Kafka, waiting until there are ``count``."""
    found: list[tuple[str, dict[str, Any]]] = []
    for _ in range(60):
        records = await read_topic(settings.kafka_bootstrap, settings.topic("booking.events"), at_least=1)
        found = [
            (header(r, "ce_type") or "", json.loads(r.value))
            for r in records
            if r.key == appointment_id.encode()
        ]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.5)
    return found


async def book(booking: ServiceProcess, station: str, day: str, start: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=booking.url, headers=auth(Role.CALL_TAKER)) as client:
        response = await client.post(f"/stations/{station}/appointments", json=booking_form(day, start))
    assert response.status_code == 201, response.text
    booked: dict[str, Any] = response.json()
    return booked


async def test_a_withdrawn_officers_appointment_goes_to_a_colleague_at_the_same_time(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, projections = booking_and_projections
    await roster.publish(
        test_settings,
        [
            roster.duty(
                o, station="borehamwood", district="hertsmere", starts_at=at(1, 16), ends_at=at(1, 21)
            )
            for o in ("officer-bw-a", "officer-bw-b")
        ],
    )
    await wait_for_capacity(booking, "borehamwood", "2027-03-01")
    booked = await book(booking, "borehamwood", "2027-03-01", "17:00")
    first_officer = booked["officer_id"]
    assert first_officer in ("officer-bw-a", "officer-bw-b")
    withdrawn = roster.withdrawal(first_officer, at(1, 16), at(1, 21), reason="court")
    await roster.publish(test_settings, [withdrawn, withdrawn])  # delivered twice: covered once

    events = await events_for(test_settings, booked["appointment_id"], 2)
    assert [name for name, _ in events] == ["SlotBooked", "AppointmentReassigned"]
    reassigned = events[1][1]
    assert reassigned["from_officer_id"] == first_officer
    assert reassigned["to_officer_id"] != first_officer
    assert reassigned["starts_at"] == "2027-03-01T17:00:00Z"  # the booked time holds
    assert reassigned["withdrawal_id"] == withdrawn.withdrawal_id
    # Its history: booked by a call taker over HTTP, then moved by a change on the roster.
    through = await channels(projections, booked["appointment_id"], "AppointmentReassigned")
    assert through == {"SlotBooked": "http", "AppointmentReassigned": "roster-change"}


async def test_when_nobody_is_free_the_appointment_moves_to_the_earliest_free_slot_and_the_caller_is_told(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, _ = booking_and_projections
    await roster.publish(
        test_settings,
        [
            roster.duty(
                "officer-ch-a",
                station="cheshunt",
                district="broxbourne",
                starts_at=at(2, 16),
                ends_at=at(2, 21),
            )
        ],
    )
    await wait_for_capacity(booking, "cheshunt", "2027-03-02")
    booked = await book(booking, "cheshunt", "2027-03-02", "17:00")
    assert booked["officer_id"] == "officer-ch-a"
    await roster.publish(test_settings, [roster.withdrawal("officer-ch-a", at(2, 17), at(2, 18), "sickness")])

    events = await events_for(test_settings, booked["appointment_id"], 2)
    assert [name for name, _ in events] == ["SlotBooked", "AppointmentRescheduled"]
    moved = events[1][1]
    assert (moved["from_starts_at"], moved["starts_at"]) == ("2027-03-02T17:00:00Z", "2027-03-02T18:00:00Z")
    assert moved["initiated_by"] == "police" and moved["caller_to_be_told"] is True
    assert moved["reason"] == "officer-withdrawn" and moved["withdrawal_id"]


async def test_a_duty_ended_early_hands_its_later_appointments_to_a_colleague(
    booking_and_projections: tuple[ServiceProcess, ServiceProcess], test_settings: Settings
) -> None:
    booking, _ = booking_and_projections
    duties = [
        roster.duty(o, station="borehamwood", district="hertsmere", starts_at=at(3, 16), ends_at=at(3, 21))
        for o in ("officer-bw-c", "officer-bw-d")
    ]
    await roster.publish(test_settings, list(duties))
    await wait_for_capacity(booking, "borehamwood", "2027-03-03")
    booked = await book(booking, "borehamwood", "2027-03-03", "19:00")
    mine = next(d for d in duties if d.officer_id == booked["officer_id"])
    await roster.publish(test_settings, [roster.duty_ended(mine, at(3, 18))])

    events = await events_for(test_settings, booked["appointment_id"], 2)
    assert [name for name, _ in events] == ["SlotBooked", "AppointmentReassigned"]
    assert events[1][1]["to_officer_id"] != mine.officer_id
    assert events[1][1]["starts_at"] == "2027-03-03T19:00:00Z"
