"""Through which channel a change to an appointment came: pure, from what its event records.

An appointment's history says who did each thing (the actor: role and subject) and why (the
event's reason code and who initiated it); audit also asks how it reached the system. Booking
stamps every event with what caused it, and that tells the channel:

- ``waitlist``: booking's own waitlist made it (an offer when a slot freed, its lapse, the entry
  ending), under the actor ``booking:waitlist``;
- ``roster-change``: caused by an event on ``roster.events`` (a withdrawal, a duty ended early):
  booking reassigned, displaced or moved the appointment, under the roster change's actor;
- ``text-reply``: the caller's text reply (``ReplyReceived``), or a change that shares its
  correlation id (the notifications service cancelled, or took a waitlist offer, on the reply);
- ``control-room``: booking's answer to the control room's request on
  ``controlroom.appointment-requests``, under the actor ``control-room[:<who sent it>]``;
- ``http``: a person's request to a service's HTTP API, the pages' or anyone's (no causation,
  a person's role as the actor);
- ``service``: a service's own doing otherwise (a text queued, delivered or failed, a call back
  asked for), whatever led to it; also a change whose cause the projections have not received yet
  (a roster change's event still on its way), until it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.topics import ROSTER_EVENTS

Channel = Literal["http", "control-room", "roster-change", "waitlist", "text-reply", "service"]
CHANNELS: tuple[Channel, ...] = ("http", "control-room", "roster-change", "waitlist", "text-reply", "service")

# Booking's waitlist, as the actor of what it does on its own (services/booking/app/waitlist).
WAITLIST_ACTOR = "booking:waitlist"
# The role booking records a control-room request's events under (services/booking/adapters/controlroom).
CONTROL_ROOM = "control-room"
# The roles a person holds: an actor with one of them acted through an HTTP API.
PEOPLE = frozenset({"call-taker", "officer", "supervisor", "auditor", "admin"})
# Notifications events that are the caller's text itself.
REPLIES = frozenset({"ReplyReceived", "SatisfactionRecorded"})
# The notifications service's own doings about a text, whatever led to the text.
TEXTING = frozenset({"SmsQueued", "SmsDelivered", "SmsFailed", "SmsWithdrawn", "CallBackRequested"})


@dataclass(frozen=True)
class Cause:
    """What is known of an event's causation: whether any topic the projections read holds it, and which."""

    known: bool
    topic: str | None = None


def channel_of(
    event_type: str,
    actor: str | None,
    causation_id: str | None,
    cause: Cause | None,
    replied: bool,
) -> Channel:
    """The channel of one event of an appointment's history.

    ``cause``: what the recorded history holds of its causation (None when it has none);
    ``replied``: whether the appointment's history has a text reply with the same correlation id.
    """
    if event_type in REPLIES:
        return "text-reply"
    if event_type in TEXTING:
        return "service"
    if actor == WAITLIST_ACTOR:
        return "waitlist"
    if cause is not None and cause.known and cause.topic is not None and cause.topic.endswith(ROSTER_EVENTS):
        return "roster-change"
    if replied:
        return "text-reply"
    role = (actor or "").partition(":")[0]
    if role == CONTROL_ROOM:
        return "control-room"
    if role in PEOPLE and not causation_id:
        return "http"
    return "service"
