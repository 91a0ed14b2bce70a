"""An appointment's events in words: what happened, who did it, and what the event says."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.common.auth import Role
from services.common.london import local, spoken_day, spoken_moment, spoken_range
from services.common.reference import County
from web.officers import KnownOfficers
from web.places import room_names
from web.words import plain

EVENT_WORDS = {
    "AppointmentRequested": "Appointment requested",
    "SlotBooked": "Station appointment booked",
    "DiaryCarVisitBooked": "Home visit by the diary car booked",
    "AppointmentRescheduled": "Moved to a new time",
    "AppointmentMovedOut": "Moved out of its day",
    "AppointmentReassigned": "Given to another officer",
    "AppointmentDisplaced": "Officer withdrawn: needs a new time",
    "AppointmentCancelled": "Cancelled",
    "AppointmentAttended": "Attended",
    "AppointmentMissed": "Missed",
    "RequestRefused": "Request refused",
    "WaitlistJoined": "Put on the waiting list",
    "AppointmentOffered": "A freed slot offered",
    "OfferLapsed": "Offer lapsed",
    "WaitlistLeft": "Left the waiting list",
    "SmsQueued": "Text message queued",
    "SmsDelivered": "Text message delivered",
    "SmsFailed": "Text message not delivered",
    "ReplyReceived": "Text reply received",
    "SatisfactionRecorded": "Satisfaction score recorded",
}
ROLE_WORDS = {
    Role.CALL_TAKER.value: "Call taker",
    Role.OFFICER.value: "Officer",
    Role.SUPERVISOR.value: "Supervisor",
    Role.AUDITOR.value: "Auditor",
    Role.GATEWAY.value: "SMS gateway",
    Role.ADMIN.value: "Administrator",
}
INITIATOR_WORDS = {"police": "By the police", "public": "At the caller's request"}
MISSED_WORDS = {"public": "The caller did not come", "police": "No officer came"}


# Through which channel a change came (the projections' history says; services/projections/domain/channels).
CHANNEL_WORDS = {
    "http": "online",
    "control-room": "from the control room",
    "roster-change": "after a change to the roster",
    "waitlist": "by the waiting list",
    "text-reply": "by the caller's text reply",
    "service": "automatically",
}


def through(channel: str | None) -> str | None:
    """How a change came, in words: 'from the control room'; None when the history does not say."""
    return CHANNEL_WORDS.get(channel or "")


def what(event_type: str) -> str:
    """What happened, in words: 'Station appointment booked'."""
    return EVENT_WORDS.get(event_type, plain(event_type))


def who(actor: str | None, source: str, officers: KnownOfficers | None = None) -> str:
    """Who did it, in words: 'Officer 4021 Priya Shah (pc-4021)' when the subject is the collar number
    of an officer the roster knows, 'Ana Shah (call taker)' for anyone else the roster's staff
    directory names, 'Call taker ct-ana' for a subject never signed in to the pages, or the service
    when no person did."""
    if not actor:
        service = source.rstrip("/").rsplit("/", 1)[-1]
        return f"The {service} service" if service else "The system"
    role, _, subject = actor.partition(":")
    words = ROLE_WORDS.get(role)
    if not words:
        return actor
    name = officers.staff_name(subject) if officers else None
    if name:
        return f"{name} ({words.lower()})"
    return f"{words} {officers.acting(subject) if officers else subject}".strip()


def details(
    event_type: str, data: Mapping[str, Any], county: County, officers: KnownOfficers | None = None
) -> list[str]:
    """What an event says, in words, from its non-personal fields only (personal data stays sealed);
    officers by collar number and name where ``officers`` knows them, never by id."""
    officers = officers or KnownOfficers()

    def text(key: str, source: Mapping[str, Any] = data) -> str | None:
        value = source.get(key)
        return value if isinstance(value, str) and value else None

    def instant(key: str) -> datetime | None:
        value = text(key)
        try:
            parsed = datetime.fromisoformat(value) if value else None
        except ValueError:
            return None
        return parsed if parsed is not None and parsed.tzinfo is not None else None

    def span(starts: datetime | None, ends: datetime | None) -> str | None:
        if starts and ends:
            return f"{spoken_day(local(starts).date())}, {spoken_range(starts, ends)}"
        return f"The appointment at {spoken_moment(starts)}" if starts else None

    lines: list[str] = []
    starts = instant("starts_at") or instant("window_starts_at")
    ends = instant("ends_at") or instant("window_ends_at")
    if event_type == "AppointmentRescheduled":
        was = span(instant("from_starts_at"), instant("from_ends_at"))
        if was:
            lines.append(f"Was {was}")
        now = span(starts, ends)
        if now:
            lines.append(f"Now {now}")
    else:
        when = span(starts, ends)
        if when:
            lines.append(when)
    lines += _where(data, county)
    if event_type == "AppointmentReassigned":
        was = officers.words(text("from_officer_id")) or "No officer"
        to = officers.words(text("to_officer_id")) or "no officer"
        lines.append(f"From {was[:1].lower()}{was[1:]} to {to[:1].lower()}{to[1:]}")
    elif text("officer_id"):
        lines.append(officers.words(text("officer_id")) or "")
    briefing = data.get("briefing")
    if isinstance(briefing, Mapping):
        if text("case_reference", briefing):
            lines.append(f"Case reference {text('case_reference', briefing)}")
        if text("thrive_risk", briefing):
            lines.append(f"THRIVE risk: {plain(text('thrive_risk', briefing) or '')}")
    if event_type in ("AppointmentCancelled", "AppointmentRescheduled") and text("initiated_by"):
        lines.append(INITIATOR_WORDS.get(text("initiated_by") or "", ""))
    if event_type == "AppointmentCancelled" and text("reason"):
        lines.append(f"Reason: {plain(text('reason') or '').lower()}")
    if event_type == "AppointmentMissed" and text("missed_by"):
        lines.append(MISSED_WORDS.get(text("missed_by") or "", ""))
    if event_type == "AppointmentAttended" and text("outcome"):
        lines.append(f"Outcome: {plain(text('outcome') or '').lower()}")
    # Refusal reasons and gateway failures are written by the systems, never typed by a person.
    if event_type in ("RequestRefused", "SmsFailed") and text("reason"):
        lines.append(text("reason") or "")
    if event_type == "SmsQueued" and text("template"):
        lines.append(f"Message: {plain(text('template') or '').lower()}")
    if event_type == "ReplyReceived" and text("intent"):
        lines.append(f"Read as: {text('intent')}")
    score = data.get("score")
    if event_type == "SatisfactionRecorded" and isinstance(score, int):
        lines.append(f"{score} out of 5")
    return [line for line in lines if line]


def _where(data: Mapping[str, Any], county: County) -> list[str]:
    """The station, diary car and room an event names, in words."""
    lines: list[str] = []
    station_id, car_id, room_id = (data.get(key) for key in ("station_id", "diary_car_id", "room_id"))
    if isinstance(station_id, str) and station_id:
        try:
            lines.append(f"{county.station(station_id).name} police station")
        except LookupError:
            lines.append(f"Station {station_id}")
    if isinstance(car_id, str) and car_id:
        lines.append(car_id.replace("-diary-car", "").replace("-", " ").title() + " diary car (home visit)")
    if isinstance(room_id, str) and room_id:
        lines.append(room_names(county).get(room_id, room_id))
    return lines
