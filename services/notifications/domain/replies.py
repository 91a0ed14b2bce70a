"""Replies from the public: what a text says, and which appointment it is about. Pure.

Forgiving of case, spaces and punctuation ("yes", "Yes!", "y e s" is not, "CANCEL k7q2.",
"4/5", "4 out of 5"). A number with more than one appointment ahead is asked which, unless
the reply names one by its code, as NHS reminder services do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.notifications.domain import templates as t
from services.notifications.domain.appointment import Appointment
from services.notifications.domain.decider import Rules, Text
from services.notifications.domain.wording import day_of, time_of

Intent = Literal["confirm", "cancel", "move", "satisfaction", "stop", "unknown"]
_WORDS: dict[str, Intent] = {
    "YES": "confirm", "Y": "confirm", "CONFIRM": "confirm", "CONFIRMED": "confirm", "OK": "confirm",
    "CANCEL": "cancel", "CANCELLED": "cancel",
    "MOVE": "move", "CHANGE": "move", "RESCHEDULE": "move", "REBOOK": "move",
    "STOP": "stop", "STOPALL": "stop", "UNSUBSCRIBE": "stop",
}  # fmt: skip
_SCORE = re.compile(r"^\s*([1-5])\s*(?:(?:/|OUT OF)\s*5)?\s*[.!]*\s*$")


@dataclass(frozen=True)
class Reading:
    """What a reply says: its intent, the score it gives, the code it names."""

    intent: Intent
    score: int | None = None
    code: str | None = None


def read(message: str) -> Reading:
    """Read a reply: a keyword (and perhaps a code), a score, or something for a person to read."""
    upper = message.upper()
    score = _SCORE.match(upper)
    if score:
        return Reading("satisfaction", score=int(score.group(1)))
    words = re.findall(r"[A-Z0-9]+", upper)
    if not words or len(words) > 3 or words[0] not in _WORDS:
        return Reading("unknown")
    code = next((w for w in words[1:] if len(w) == 4), None)
    if len(words) > 1 and code is None:
        return Reading("unknown")
    return Reading(_WORDS[words[0]], code=code)


@dataclass(frozen=True)
class Match:
    """Which appointment a reply is about; ``ask`` when it could be several."""

    appointment: Appointment | None
    ask: bool = False


def match(reading: Reading, upcoming: Sequence[Appointment]) -> Match:
    """The one upcoming appointment the reply names or can only mean; else ask, or none."""
    if reading.code is not None:
        named = [a for a in upcoming if a.code == reading.code]
        return Match(named[0]) if named else Match(None, ask=len(upcoming) > 1)
    if len(upcoming) == 1:
        return Match(upcoming[0])
    return Match(None, ask=len(upcoming) > 1)


def which_text(upcoming: Sequence[Appointment], now: datetime, rules: Rules) -> Text:
    """The text that asks which appointment a reply meant, listing each (at most four) with its code."""
    shown = [a for a in upcoming if a.starts_at is not None][:4]
    choices = "; ".join(
        f"{a.code}: {time_of(a.starts_at)} on {day_of(a.starts_at)}" for a in shown if a.starts_at
    )
    first = shown[0]
    template = t.WHICH_APPOINTMENT
    return Text(
        first.appointment_id,
        template,
        {"code": first.code, "choices": choices},
        rules.quiet.next_allowed(now),
    )


def answer(template: t.Template, appointment: Appointment, now: datetime, rules: Rules) -> Text:
    """A short answer to a reply about one appointment (confirmed, a call back promised, stopped)."""
    values: dict[str, str] = {}
    if appointment.starts_at is not None:
        values = {"time": time_of(appointment.starts_at), "day": day_of(appointment.starts_at)}
    wanted = {k: values[k] for k in template.placeholders}
    return Text(appointment.appointment_id, template, wanted, rules.quiet.next_allowed(now))
