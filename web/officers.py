"""Officers as people read them: by collar number and name, never by the roster's long id; and
everyone else who acts (call takers, supervisors, auditors) by the name they signed in with.

The roster knows each officer's collar number and, since ``OfficerRegistered`` version 2, their
name (None for an officer registered without one: shown as "name not recorded"). Names are staff
data: the pages show them to staff, never log them, and no text to a caller carries them.

The pages map ids to officers from ``GET /officers``, asked with the signed-in person's own
token and only for the roles the roster lets read it (its row of the role matrix). The map is
kept a minute: a page with twenty rows asks once, and an officer registered a moment ago shows
within the minute (or at once after a roster page the pages changed, which forgets the map). An
id the map does not hold is still not shown: the words say the roster does not know the officer,
or that it could not be read.

People who are not officers are named from the roster's staff directory (``GET /staff``: each
person's name by sign-in subject, recorded as they sign in, see web.staff): read when a page names
someone by subject, kept a minute too, and forgotten whenever a sign-in records a new name. A
subject the directory does not hold (someone who never signed in to the pages, a control-room
system) is shown as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from fastapi import Request
from pydantic import BaseModel

from services.common.auth import collar_of
from services.common.roles import ROLE_MATRIX
from web.answers import OfficerAnswer
from web.backends import BackendError, Backends

KEEP_SECONDS = 60.0
NO_NAME = "name not recorded"
NOT_ON_ROSTER = "not on the roster"
NOT_READ = "not shown (the roster could not be read)"


def officer_label(collar_number: str, name: str | None) -> str:
    """'4127 Priya Shah': the collar number and the name, or '4127 (name not recorded)'."""
    return f"{collar_number} {name}" if name else f"{collar_number} ({NO_NAME})"


@dataclass(frozen=True)
class KnownOfficer:
    """What the pages show of an officer: the collar number and the name, if recorded."""

    collar_number: str
    name: str | None = None

    @property
    def label(self) -> str:
        """'4127 Priya Shah', or '4127 (name not recorded)'."""
        return officer_label(self.collar_number, self.name)


@dataclass(frozen=True)
class KnownOfficers:
    """The roster's officers by id, as a page read them; ``read`` is False when the roster could
    not be read (the role may not, or it did not answer), so an officer missing is not 'unknown'.
    ``staff``: the names of people who signed in, by subject (the roster's staff directory)."""

    by_id: Mapping[str, KnownOfficer] = field(default_factory=dict)
    read: bool = False
    staff: Mapping[str, str] = field(default_factory=dict)

    def staff_name(self, subject: str | None) -> str | None:
        """The name a token's subject signed in with, when it is not an officer on the roster (who
        is shown by collar number and name instead) and the staff directory holds it."""
        if not subject or self.with_collar(subject) is not None:
            return None
        return self.staff.get(subject)

    def get(self, officer_id: str) -> KnownOfficer | None:
        """The officer with this id, if the roster named them."""
        return self.by_id.get(officer_id)

    def with_collar(self, subject: str | None) -> KnownOfficer | None:
        """The roster's officer a token's subject names, by collar number ('pc-4021', '4021') or
        by their roster id, if any: how a person who did something is named when they are an
        officer on the roster."""
        if not subject:
            return None
        if subject in self.by_id:
            return self.by_id[subject]
        collar = collar_of(subject)
        if collar is None:
            return None
        return next((o for o in self.by_id.values() if o.collar_number.upper() == collar), None)

    def acting(self, subject: str) -> str:
        """A token's subject as people read it: '4021 Priya Shah (pc-4021)' for an officer on the
        roster, the subject itself otherwise; a roster id is never shown."""
        officer = self.with_collar(subject)
        if officer is None:
            return subject
        return officer.label if subject in self.by_id else f"{officer.label} ({subject})"

    def label(self, officer_id: str | None) -> str | None:
        """'4127 Priya Shah' for a table cell; None for no officer; never the id."""
        if not officer_id:
            return None
        known = self.by_id.get(officer_id)
        if known is not None:
            return known.label
        return "Not on the roster" if self.read else "Not shown (the roster could not be read)"

    def words(self, officer_id: str | None) -> str | None:
        """'Officer 4127 Priya Shah' for a sentence; None for no officer; never the id."""
        if not officer_id:
            return None
        known = self.by_id.get(officer_id)
        if known is not None:
            return f"Officer {known.label}"
        return f"Officer {NOT_ON_ROSTER}" if self.read else f"Officer {NOT_READ}"


class StaffAnswer(BaseModel):
    """One person of the roster's staff directory (GET /staff)."""

    subject: str
    name: str


class OfficerNames:
    """Officer ids to collar numbers and names, and people's subjects to their names, read from the
    roster and kept a minute."""

    def __init__(self, backends: Backends, clock: Callable[[], float] = time.monotonic) -> None:
        self._backends = backends
        self._clock = clock
        self._known = KnownOfficers()
        self._read_at = float("-inf")
        self._staff: Mapping[str, str] = {}
        self._staff_read_at = float("-inf")

    def forget(self) -> None:
        """Read the roster again next time (a page just changed it)."""
        self._read_at = float("-inf")

    def forget_staff(self) -> None:
        """Read the staff directory again next time (a sign-in just named someone anew)."""
        self._staff_read_at = float("-inf")

    async def _staff_names(self, request: Request) -> Mapping[str, str]:
        """The staff directory's names by subject, kept a minute; the last read (or none) when the
        role may not read it or the roster does not answer."""
        if request.state.session.role not in ROLE_MATRIX["roster"]["GET /staff"]:
            return {}
        if self._clock() - self._staff_read_at < KEEP_SECONDS:
            return self._staff
        try:
            people = await self._backends.read(list[StaffAnswer], "roster", "/staff")
        except BackendError:
            return self._staff
        self._staff = {p.subject: p.name for p in people}
        self._staff_read_at = self._clock()
        return self._staff

    async def officers(
        self, request: Request, wanted: Iterable[str | None] = (), subjects: Iterable[str | None] = ()
    ) -> KnownOfficers:
        """The officers the roster knows, by id, when any of ``wanted`` is an id or any of
        ``subjects`` (tokens' subjects, 'pc-4021') names a collar number; nothing read when the
        role may not read the roster or the roster does not answer (the pages then say so, and
        never fail for this)."""
        ids = {w for w in wanted if w}
        named = {s for s in subjects if s}
        collars = {c for s in named if (c := collar_of(s))}
        if request.state.session.role not in ROLE_MATRIX["roster"]["GET /officers"]:
            return KnownOfficers()
        staff = await self._staff_names(request) if named else {}
        if not (ids or collars):
            return KnownOfficers(staff=staff)
        known = await self._officers(ids)
        return KnownOfficers(known.by_id, known.read, staff)

    async def _officers(self, ids: set[str]) -> KnownOfficers:
        """The officers the roster knows, kept a minute unless an id is new to the pages."""
        age = self._clock() - self._read_at
        # An id not known yet may be an officer registered since: the roster is asked again (one
        # call), or a supervisor who just registered one read "not on the roster" for a while.
        # (A subject whose collar number is nobody's on the roster, a supervisor not rostered say,
        # waits for the minute: most people who act are not on it.)
        if age < KEEP_SECONDS and ids <= self._known.by_id.keys():
            return self._known
        try:
            officers = await self._backends.read(list[OfficerAnswer], "roster", "/officers")
        except BackendError:
            return self._known
        self._known = KnownOfficers(
            {o.officer_id: KnownOfficer(o.collar_number, o.name) for o in officers}, read=True
        )
        self._read_at = self._clock()
        return self._known


def officer_words(officer_id: str | None, known: KnownOfficers) -> str | None:
    """'Officer 4127 Priya Shah', never the id (None for no officer)."""
    return known.words(officer_id)
