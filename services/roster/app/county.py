"""The county in force at the roster: taken from booking's recorded CountyReferenceLoaded.

Booking records each distinct version of the county's reference data when
`appointments seed` loads it; the roster consumes booking.events, keeps the newest
version in its own table (in the consumer's transaction, so exactly once) and holds
it in memory for the commands that check stations and districts.
"""

from __future__ import annotations

import asyncpg

from schemas.envelope import Envelope
from schemas.reference import CountyReferenceLoaded
from services.common.consumer import PoisonRecord, Position
from services.common.logging import get_logger
from services.common.reference import County
from services.roster.adapters import county as store
from services.roster.adapters.county import CountyInForce

log = get_logger(__name__)

# How long a caller refused for want of the county is told to wait before trying again.
RETRY_AFTER_SECONDS = 5


class CountyNotReceived(Exception):
    """No version of the county's reference data has reached the roster yet."""

    retry_after_seconds = RETRY_AFTER_SECONDS

    def __init__(self) -> None:
        super().__init__(
            "the county's reference data has not reached the roster yet: run `appointments seed`"
        )


class CountyReference:
    """The version in force, in memory; follows booking's CountyReferenceLoaded events."""

    def __init__(self, current: CountyInForce | None = None) -> None:
        self.current = current

    @classmethod
    async def load(cls, pool: asyncpg.Pool) -> CountyReference:
        """The version kept in the roster's database (at start-up)."""
        async with pool.acquire() as conn:
            return cls(await store.in_force(conn))

    @property
    def county(self) -> County:
        """The county in force; CountyNotReceived until one has arrived."""
        if self.current is None:
            raise CountyNotReceived()
        return self.current.county

    async def apply(self, conn: asyncpg.Connection, env: Envelope, _: Position) -> None:
        """The consumer's apply: keep a new version of the county, ignore every other booking event."""
        if env.event_type != CountyReferenceLoaded.event_type:
            return
        loaded = env.domain_event()
        assert isinstance(loaded, CountyReferenceLoaded)
        try:
            county = County.model_validate(loaded.document)
        except ValueError as exc:
            raise PoisonRecord(f"the county's reference data does not read: {exc}") from exc
        if not await store.keep(conn, env.event_id, loaded):
            return  # an older version than the one kept (a replay): the newest stays in force
        # Taken into memory before the transaction commits: booking has recorded this version
        # already, and should the commit fail the record comes back and is kept again.
        self.current = CountyInForce(county, loaded.sha256, loaded.loaded_at)
        log.info("county reference taken", sha256=loaded.sha256, stations=len(county.stations))
