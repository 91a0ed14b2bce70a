"""What every page reads: the county, the services and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from services.common.london import local
from services.common.reference import County
from web.backends import Backends
from web.officers import OfficerNames
from web.places import room_names


class Site:
    """The county, the services and the clock the page handlers read."""

    def __init__(self, county: County, backends: Backends, now: Callable[[], datetime]) -> None:
        self.county = county
        self.backends = backends
        self.now = now
        self.rooms = room_names(county)
        self.officers = OfficerNames(backends)

    def today(self) -> date:
        """Today's date in London."""
        return local(self.now()).date()

    def room_name(self, room_id: str | None) -> str | None:
        """A room's name, its id when the county does not know it, or None for no room."""
        return self.rooms.get(room_id, room_id) if room_id else None
