"""The staff directory: the name each person who signs in to the pages goes by.

The aggregate whose stream is ``staff:{subject}``, one per sign-in subject (the ``sub`` of their
tokens). An event's ``actor`` header names who did it only by role and subject, by design; the
roster, which owns the force's people, keeps their names, so the pages can show "Ana Shah (call
taker)" in a history rather than a subject. Officers also have their collar number and name on
their own streams; everyone who signs in (officers too) has a name here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict

from schemas.booking import Instant
from schemas.roster import StaffMemberNamed, StaffRole


def stream_id(subject: str) -> str:
    """The event-store stream of one person who signs in."""
    return f"staff:{subject}"


class NameStaffMember(BaseModel):
    """Record the name (and role) a person signed in with; nothing when it is the one recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    role: StaffRole
    name: str
    now: Instant


@dataclass(frozen=True)
class StaffMember:
    """One person who signs in: their name and role as last recorded (None before the first)."""

    subject: str
    name: str | None = None
    role: StaffRole | None = None


def initial_state(subject: str) -> StaffMember:
    """A person the directory has not named yet."""
    return StaffMember(subject)


def decide(command: NameStaffMember, state: StaffMember) -> list[StaffMemberNamed]:
    """The name recorded when it is new or changed (or the role is); nothing when already so."""
    if (state.name, state.role) == (command.name, command.role):
        return []
    return [
        StaffMemberNamed(subject=command.subject, role=command.role, name=command.name, named_at=command.now)
    ]


def evolve(state: StaffMember, event: StaffMemberNamed) -> StaffMember:
    """The person after their name was recorded."""
    return replace(state, name=event.name, role=event.role)
