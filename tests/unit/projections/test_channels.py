"""Through which channel each change in an appointment's history came, from its causation and actor."""

from __future__ import annotations

import pytest

from services.projections.domain.channels import Cause, Channel, channel_of

ROSTER = Cause(known=True, topic="test-1a2b.roster.events")
BOOKING = Cause(known=True, topic="booking.events")
UNREAD = Cause(known=False)
REQUEST = "6f1c0c9e-3a4b-4c55-9a61-0d8f0b1e2c3d"


@pytest.mark.parametrize(
    ("event_type", "actor", "causation", "cause", "replied", "channel"),
    [
        # A call taker on the pages (or any client of the API): no causation, a person's role.
        ("SlotBooked", "call-taker:ct-4472", None, None, False, "http"),
        ("AppointmentCancelled", "supervisor:sgt-12", None, None, False, "http"),
        # The control room's request: its CloudEvent id is the cause, on a topic no projection reads.
        (
            "SlotBooked",
            "control-room:storm",
            REQUEST,
            UNREAD,
            False,
            "control-room",
        ),
        ("RequestRefused", "control-room", REQUEST, UNREAD, False, "control-room"),
        # A supervisor's withdrawal on the roster moved it: their actor, the roster's event the cause.
        ("AppointmentReassigned", "supervisor:sgt-12", "a1", ROSTER, False, "roster-change"),
        ("AppointmentDisplaced", "roster", "a1", ROSTER, False, "roster-change"),
        # Booking's waitlist on its own: an offer when a slot freed (caused by the cancellation), a lapse.
        ("AppointmentOffered", "booking:waitlist", "b1", BOOKING, False, "waitlist"),
        ("OfferLapsed", "booking:waitlist", None, None, False, "waitlist"),
        # The caller's text, and what the notifications service did on it (same correlation id).
        ("ReplyReceived", None, "c1", BOOKING, False, "text-reply"),
        ("AppointmentCancelled", "call-taker:notifications", None, None, True, "text-reply"),
        # A service's own doing: a text queued on a booking, or on a cancellation by text.
        ("SmsQueued", None, "b1", BOOKING, False, "service"),
        ("SmsQueued", None, "b2", BOOKING, True, "service"),
    ],
)
def test_each_change_is_told_by_its_channel(
    event_type: str,
    actor: str | None,
    causation: str | None,
    cause: Cause | None,
    replied: bool,
    channel: Channel,
) -> None:
    assert channel_of(event_type, actor, causation, cause, replied) == channel


def test_a_roster_change_the_history_does_not_hold_yet_is_taken_for_no_person_and_no_control_room() -> None:
    # The booking event arrived before the roster's: it names a cause, so no person typed it in.
    assert channel_of("AppointmentReassigned", "supervisor:sgt-12", "a1", UNREAD, False) == "service"
    assert channel_of("AppointmentReassigned", "supervisor:sgt-12", "a1", ROSTER, False) == "roster-change"
