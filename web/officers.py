"""Officers as people read them: by collar number, never by the roster's long id.

The roster knows each officer's collar number (it keeps no names: ``OfficerRegistered`` has
none). The pages map ids to collar numbers from ``GET /officers``, asked with the signed-in
person's own token and only for the roles the roster lets read it (its row of the role
matrix). The map is kept a minute: a page with twenty rows asks once, and an officer
registered a moment ago shows by number within the minute (or at once after a roster page
the pages changed, which forgets the map).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from fastapi import Request

from services.common.roles import ROLE_MATRIX
from web.answers import OfficerAnswer
from web.backends import BackendError, Backends

KEEP_SECONDS = 60.0
RETRY_UNKNOWN_SECONDS = 5.0


class OfficerNames:
    """Officer ids to collar numbers, read from the roster and kept a minute."""

    def __init__(self, backends: Backends, clock: Callable[[], float] = time.monotonic) -> None:
        self._backends = backends
        self._clock = clock
        self._known: dict[str, str] = {}
        self._read_at = float("-inf")

    def forget(self) -> None:
        """Read the roster again next time (a page just changed it)."""
        self._read_at = float("-inf")

    async def collar_numbers(self, request: Request, wanted: Iterable[str | None] = ()) -> Mapping[str, str]:
        """Officer ids the roster knows, to their collar numbers, when any of ``wanted`` is an id; empty
        when the role may not read the roster or the roster does not answer (the pages then show ids,
        and never fail for this)."""
        ids = {w for w in wanted if w}
        if request.state.session.role not in ROLE_MATRIX["roster"]["GET /officers"] or not ids:
            return {}
        age = self._clock() - self._read_at
        # An id not known yet may be an officer registered since: asked again, but not on every page.
        if age < KEEP_SECONDS and (ids <= self._known.keys() or age < RETRY_UNKNOWN_SECONDS):
            return self._known
        try:
            officers = await self._backends.read(list[OfficerAnswer], "roster", "/officers")
        except BackendError:
            return self._known
        self._known = {o.officer_id: o.collar_number for o in officers}
        self._read_at = self._clock()
        return self._known


def officer_words(officer_id: str | None, collar_numbers: Mapping[str, str]) -> str | None:
    """'Officer 4127', or the id when the roster does not know it (None for no officer)."""
    if not officer_id:
        return None
    collar = collar_numbers.get(officer_id)
    return f"Officer {collar}" if collar else f"Officer {officer_id}"
