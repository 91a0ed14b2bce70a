"""The texts, as GOV.UK Notify templates: an id, a body with ((placeholders)), and their personalisation.

The bodies here are the ones set up in Notify (and shown by the local simulator); a text
is sent as the template's id plus a personalisation map, never as a rendered body. Each
placeholder has a most it can hold, so every template's worst case can be counted
(``worst_case``) and a template that could exceed Notify's 918 characters fails its test.
Nothing in a template speaks of the case, the crime or the caller's situation.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from services.notifications.domain.length import notify_length
from services.notifications.domain.wording import DAY_MAX, RANGE_MAX, REASON_MAX, TIME_MAX

# Template ids are Notify's; locally (and until configured) they are derived from the name.
TEMPLATE_NAMESPACE = uuid.UUID("2d0f6f7e-0c5b-4b8e-9d1b-6a5e0e4c7a11")
FORCE = "Hertfordshire Police"
_PLACEHOLDER = re.compile(r"\(\(([a-z_]+)\)\)")

# The most each placeholder holds, as Notify counts it.
PLACE_MAX = 48  # "Bishop's Stortford Police Station" and room for longer names
LINK_MAX = 140  # the service's public address (at most 60) and /calendar/{id}.ics?k={16}
CODE_MAX = 6
LIMITS: Mapping[str, int] = {
    "place": PLACE_MAX,
    "time": TIME_MAX,
    "day": DAY_MAX,
    "window": RANGE_MAX,
    "reason": REASON_MAX,
    "calendar_link": LINK_MAX,
    "code": CODE_MAX,
    "until_time": TIME_MAX,
    "until_day": DAY_MAX,
    "choices": 4 * (CODE_MAX + TIME_MAX + DAY_MAX + 10),
    "count": 3,
    "change": 40,
}

REPLY_HOW = "Reply YES to confirm, MOVE to ask for another time or CANCEL to cancel."


@dataclass(frozen=True)
class Template:
    """One Notify template: its name here, its body, and the placeholders the body names."""

    name: str
    body: str

    @property
    def id(self) -> str:
        """The Notify template id (a stable UUID of the name)."""
        return str(uuid.uuid5(TEMPLATE_NAMESPACE, self.name))

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The personalisation keys the body needs, in order of first use."""
        return tuple(dict.fromkeys(_PLACEHOLDER.findall(self.body)))

    def render(self, personalisation: Mapping[str, str]) -> str:
        """The text as Notify would send it; a missing or over-long value is a bug (ValueError)."""
        for key in self.placeholders:
            value = personalisation.get(key)
            if value is None:
                raise ValueError(f"template {self.name} needs {key}")
            if notify_length(value) > LIMITS[key]:
                raise ValueError(f"template {self.name}: {key} is longer than {LIMITS[key]}")
        return _PLACEHOLDER.sub(lambda m: personalisation[m.group(1)], self.body)

    def worst_case(self) -> int:
        """The longest the text can be, as Notify counts it: every placeholder at its most."""
        fixed = _PLACEHOLDER.sub("", self.body)
        filled = sum(LIMITS[key] * self.body.count(f"(({key}))") for key in self.placeholders)
        return notify_length(fixed) + filled


def _t(name: str, body: str) -> Template:
    return Template(name, body)


APPOINTMENT_BOOKED = _t(
    "appointment-booked",
    f"{FORCE}: your appointment at ((place)) is at ((time)) on ((day)). Please bring photo ID if you"
    f" have it and any papers you were asked for. {REPLY_HOW} Add it to your calendar: ((calendar_link))"
    " Your code is ((code)).",
)
VISIT_BOOKED = _t(
    "visit-booked",
    f"{FORCE}: an officer will visit you at home some time from ((window)) on ((day)). Please have photo ID"
    f" ready if you have it. {REPLY_HOW} Add it to your calendar: ((calendar_link)) Your code is ((code)).",
)
APPOINTMENT_MOVED = _t(
    "appointment-moved",
    f"{FORCE}: we are sorry, we have had to move your appointment because ((reason)). It is now at"
    f" ((place)) at ((time)) on ((day)). {REPLY_HOW} Your code is ((code)).",
)
VISIT_MOVED = _t(
    "visit-moved",
    f"{FORCE}: we are sorry, we have had to move your home visit because ((reason)). An officer will now"
    f" visit some time from ((window)) on ((day)). {REPLY_HOW} Your code is ((code)).",
)
OFFICER_CHANGED = _t(
    "officer-changed",
    f"{FORCE}: a different officer will now see you at ((place)) at ((time)) on ((day)). The time has not"
    " changed. Reply MOVE if you need another time.",
)
APPOINTMENT_CANCELLED_BY_POLICE = _t(
    "appointment-cancelled-by-police",
    f"{FORCE}: we are sorry, we have had to cancel your appointment at ((time)) on ((day)) because"
    " ((reason)). Reply MOVE and we will call you to book another time, or call 101.",
)
APPOINTMENT_CANCELLED = _t(
    "appointment-cancelled",
    f"{FORCE}: your appointment at ((time)) on ((day)) is cancelled. If you still need to see an officer,"
    " call 101.",
)
APPOINTMENT_OFFERED = _t(
    "appointment-offered",
    f"{FORCE}: an appointment is free at ((place)) at ((time)) on ((day)). To take it, reply YES or call"
    " 101 by ((until_time)) on ((until_day)). After that it may go to someone else. Your code is ((code)).",
)
REMINDER_DAY_BEFORE = _t(
    "reminder-day-before",
    f"{FORCE}: a reminder that your appointment at ((place)) is tomorrow at ((time)). {REPLY_HOW}",
)
REMINDER_SOON = _t(
    "reminder-soon",
    f"{FORCE}: a reminder that your appointment at ((place)) is today at ((time)). Reply CANCEL if you"
    " cannot come.",
)
VISIT_REMINDER_DAY_BEFORE = _t(
    "visit-reminder-day-before",
    f"{FORCE}: a reminder that an officer will visit you at home tomorrow some time from ((window))."
    f" {REPLY_HOW}",
)
VISIT_REMINDER_SOON = _t(
    "visit-reminder-soon",
    f"{FORCE}: a reminder that an officer will visit you at home today some time from ((window))."
    " Reply CANCEL if you cannot be there.",
)
THANK_YOU = _t(
    "thank-you",
    f"{FORCE}: thank you for meeting us. How did we do? Reply with a number from 1 (very poor) to 5"
    " (very good).",
)
WHICH_APPOINTMENT = _t(
    "which-appointment",
    f"{FORCE}: you have more than one appointment with us. Please reply again with the word and the code"
    " of the one you mean, for example CANCEL ((code)). Your appointments: ((choices))",
)
CONFIRMED = _t(
    "confirmed",
    f"{FORCE}: thank you, your appointment at ((time)) on ((day)) is confirmed.",
)
CALL_BACK_PROMISED = _t(
    "call-back-promised",
    f"{FORCE}: thank you. We will call you to find another time for your appointment.",
)
OFFER_GONE = _t(
    "offer-gone",
    f"{FORCE}: sorry, that appointment is no longer free. If you still need to see an officer, call 101.",
)
STOPPED = _t(
    "stopped",
    f"{FORCE}: you will get no more texts from us. If you need us, call 101.",
)
OFFICER_DAY = _t(
    "officer-day",
    f"{FORCE}: your appointment duty on ((day)) is at ((place)), ((window)). Appointments booked so far:"
    " ((count)). Please read each briefing in your diary before you go.",
)
OFFICER_CHANGE = _t(
    "officer-change",
    f"{FORCE}: a change to your appointment duty on ((day)): ((change)) at ((time)). Please check your"
    " diary.",
)

TEMPLATES: Mapping[str, Template] = {
    t.name: t
    for t in (
        APPOINTMENT_BOOKED, VISIT_BOOKED, APPOINTMENT_MOVED, VISIT_MOVED, OFFICER_CHANGED,
        APPOINTMENT_CANCELLED_BY_POLICE, APPOINTMENT_CANCELLED, APPOINTMENT_OFFERED,
        REMINDER_DAY_BEFORE, REMINDER_SOON, VISIT_REMINDER_DAY_BEFORE, VISIT_REMINDER_SOON,
        THANK_YOU, WHICH_APPOINTMENT, CONFIRMED, CALL_BACK_PROMISED, OFFER_GONE, STOPPED, OFFICER_DAY,
        OFFICER_CHANGE,
    )
}  # fmt: skip


def by_id(template_id: str) -> Template | None:
    """The template with this Notify id (the simulator shows texts by it)."""
    return next((t for t in TEMPLATES.values() if t.id == template_id), None)
