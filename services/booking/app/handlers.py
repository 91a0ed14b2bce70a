"""Booking's handlers: validate and seal at the edge, then one unit of work per command."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import asyncpg

from schemas.booking import Briefing, CallerDetails, Place, Slot
from services.booking.adapters.personal import normalise_phone, normalise_postcode, seal_caller
from services.booking.app.forms import BookingForm, BriefingForm, CallerForm
from services.booking.app.ports import BookingStore, BookingUnit, RequestUse
from services.booking.domain import commands, decider
from services.booking.domain import reference as county_reference
from services.booking.domain.calendar import local_date, to_utc
from services.booking.domain.capacity import free_slots, nearest_alternatives
from services.booking.domain.errors import Refusal, RequestReused, SlotTaken, UnknownAppointment
from services.booking.domain.reference import CountyState, LoadCounty
from services.booking.domain.state import Appointment, Diary, DiaryDay, DiaryDayEvent
from services.booking.domain.stranded import places_changed
from services.common.config import Settings
from services.common.consumer import Transient
from services.common.db import session_connection
from services.common.logging import get_logger
from services.common.reference import County
from services.common.shredding import KeyStore
from services.common.unit_of_work import Fold, Loaded, Metadata, load_one, run_unit

log = get_logger(__name__)

# Control-room and HTTP requests share it: one request id names one appointment, whatever the channel.
REQUEST_NAMESPACE = uuid.UUID("6f1d7c3e-4b1a-5d2e-9a47-3c0b8e21d5a9")
# How far either side of a full day to look for the nearest alternatives.
ALTERNATIVE_DAYS = 7
MAX_RANGE_DAYS = 62


class NotSeeded(Transient):
    """Booking has no county reference data yet."""

    def __init__(self) -> None:
        super().__init__("the county's reference data is not loaded yet: run `appointments seed`")


def appointment_id_for(request_id: str) -> str:
    """The appointment id a request books (or is refused) under."""
    return str(uuid.uuid5(REQUEST_NAMESPACE, request_id))


def fingerprint(place: Place, place_id: str, form: BookingForm, caller: CallerDetails) -> str:
    """What a request asked for, in a form that can be compared without personal data."""
    asked = f"{place}|{place_id}|{form.day}|{form.start}|{form.incident_grade}|{caller.subject_id}"
    return hashlib.sha256(asked.encode()).hexdigest()


@dataclass(frozen=True)
class Booking:
    """A booking as the call taker is told it; ``again`` when a retried request found it booked."""

    day: DiaryDay
    appointment: Appointment
    again: bool = False

    @property
    def appointment_id(self) -> str:
        """The appointment booked."""
        return self.appointment.appointment_id


COUNTY: Fold[CountyState, county_reference.CountyEvent] = Fold(
    initial=lambda _: county_reference.initial_state(),
    evolve=county_reference.evolve,
    narrow=county_reference.event_of,
    tag="county",
)
# Every booking process follows the county: a new version announces itself on this channel.
COUNTY_CHANNEL = "county"
# Should a notification be missed (a dropped listener), the county is read again this often.
COUNTY_RECHECK_SECONDS = 60.0


@dataclass
class BookingHandlers:
    """The booking use cases, over the service's event store, views and key store."""

    store: BookingStore
    keys: KeyStore
    settings: Settings
    source: str
    reference: CountyState = field(default_factory=CountyState)

    @property
    def county(self) -> County:
        """The reference data in force; refused until `appointments seed` has loaded it."""
        if self.reference.county is None:
            raise NotSeeded()
        return self.reference.county

    @property
    def days(self) -> Fold[DiaryDay, DiaryDayEvent]:
        """How a diary-day stream folds, with the reference data in force."""
        county = self.county
        return Fold(
            initial=lambda stream: decider.initial_state(Diary.parse(stream), county),
            evolve=decider.evolve,
            narrow=decider.event_of,
            tag=f"diary-day:{self.reference.sha256}",
        )

    async def follow_reference(self, pool: asyncpg.Pool) -> None:
        """Keep this process's county in force: read it now and again whenever a new one is recorded.

        Booking runs as several processes; a county loaded through one of them reaches the
        others by NOTIFY within moments (listening starts before the first read, so none is lost).
        """
        changed = asyncio.Event()
        while True:
            try:
                async with session_connection(pool) as conn:
                    await conn.add_listener(COUNTY_CHANNEL, lambda *_: changed.set())
                    while True:
                        await self.load_reference()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(changed.wait(), COUNTY_RECHECK_SECONDS)
                        changed.clear()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("following the county failed; retrying")
                await asyncio.sleep(1.0)

    async def load_reference(self) -> None:
        """Read the county reference stream into memory (the tail since the cached version)."""

        async def work(unit: BookingUnit) -> CountyState:
            return (await load_one(unit, COUNTY, county_reference.STREAM)).state

        self.reference = await run_unit(self.store, work)

    async def seed_reference(self, county: County, meta: Metadata) -> bool:
        """Record the county's reference data if it changed; returns whether it did.

        Refused whole (``CountyRefused``) when the document is not, and (``WouldStrand``) when
        it would remove or close a place that holds booked appointments.
        """

        async def work(unit: BookingUnit) -> tuple[CountyState, bool]:
            loaded = await load_one(unit, COUNTY, county_reference.STREAM)
            held = await days_a_load_changes(unit, loaded.state, county, meta.now)
            events = county_reference.decide(LoadCounty(county, meta.now, held), loaded.state)
            if events:
                await unit.views.announce(COUNTY_CHANNEL)  # delivered to every process on commit
            return unit.append(loaded, events, meta).state, bool(events)

        self.reference, changed = await run_unit(self.store, work)
        return changed

    def initial(self, diary: Diary) -> DiaryDay:
        """An empty day of a station or diary car, with the reference data in force."""
        return decider.initial_state(diary, self.county)

    async def free_slots(
        self, place: Place, place_id: str, first: date, last: date, now: datetime
    ) -> list[Slot]:
        """Every free slot of a station or diary car from ``first`` to ``last``, in two or three queries."""
        if last < first:
            raise Refusal("to", "the range ends before it starts")
        if (last - first).days >= MAX_RANGE_DAYS:
            raise Refusal("to", f"ask for at most {MAX_RANGE_DAYS} days at a time")
        self.initial(Diary(place, place_id, first))  # refuses an unknown place up front
        diaries = [Diary(place, place_id, first + timedelta(days=n)) for n in range((last - first).days + 1)]

        async def work(unit: BookingUnit) -> list[Slot]:
            loaded = await unit.load(self.days, [d.stream_id for d in diaries])
            on_duty = await unit.views.on_duty_days(place, place_id, first, last)
            return [
                slot
                for d, day in zip(diaries, loaded, strict=True)
                for slot in free_slots(day.state, now, on_duty[d.day])
            ]

        return await run_unit(self.store, work)

    async def seal(self, caller: CallerForm, b: BriefingForm) -> tuple[CallerDetails, Briefing]:
        """Validate the caller's phone and postcode, and seal their details and the free texts."""
        phone = (
            normalise_phone(caller.phone, "caller.phone", production=self.settings.is_production)
            if caller.phone
            else None
        )
        address = None
        if caller.address is not None:
            a = caller.address
            postcode = normalise_postcode(a.postcode, "caller.address.postcode")
            address = ", ".join(p for p in (a.line1, a.line2, a.town, postcode) if p)
        texts = {
            k: v
            for k, v in {
                "summary": b.summary,
                "background": b.background,
                "vulnerability": b.vulnerability,
                "access_needs": b.access_needs,
            }.items()
            if v is not None
        }
        details, sealed = await seal_caller(
            self.keys, name=caller.name, phone=phone, address=address, texts=texts,
            secret=self.settings.token_secret,
        )  # fmt: skip
        briefing = Briefing(
            case_reference=b.case_reference,
            summary=sealed["summary"],
            background=sealed.get("background"),
            vulnerability=sealed.get("vulnerability"),
            access_needs=sealed.get("access_needs"),
            vulnerability_flags=b.vulnerability_flags,
            preferred_contact=b.preferred_contact,
            language=b.language,
            interpreter_needed=b.interpreter_needed,
            thrive_risk=b.thrive_risk,
            safe_to_text=b.safe_to_text,
            safe_to_call=b.safe_to_call,
        )
        return details, briefing

    async def book(
        self,
        place: Place,
        place_id: str,
        form: BookingForm,
        meta: Metadata,
        *,
        within: asyncpg.Connection | None = None,
    ) -> Booking:
        """Book a station slot or diary-car window; SlotTaken carries the three nearest alternatives.

        With a request id the booking is made once: the same request again answers with the
        same appointment, and the same id asking for something else is refused.
        """
        diary = Diary(place, place_id, form.day)
        self.initial(diary)  # an unknown place is refused before anything is sealed
        caller, briefing = await self.seal(form.caller, form.briefing)
        request_id = form.request_id
        appointment_id = appointment_id_for(request_id) if request_id else str(uuid.uuid4())
        asked = fingerprint(place, place_id, form, caller) if request_id else ""

        request = RequestUse(request_id, appointment_id, asked) if request_id else None

        async def work(unit: BookingUnit) -> Booking:
            facts = await unit.views.booking_facts(diary, request_id)
            if request_id and facts.request_used is not None:
                if facts.request_used != asked:
                    raise RequestReused(request_id)
                return await self._booked(unit, appointment_id)
            day = await load_one(unit, self.days, diary.stream_id)
            command = commands.book(
                place, place_id, appointment_id=appointment_id, request_id=request_id, day=form.day,
                start=form.start, incident_grade=form.incident_grade, caller=caller, briefing=briefing,
                on_duty=facts.on_duty, now=meta.now,
            )  # fmt: skip
            events = decider.decide(command, day.state)
            after = unit.append(day, events, meta)
            await unit.views.record_placement(events, request)
            return booking_on(after, appointment_id)

        try:
            return await run_unit(self.store, work, within=within)
        except SlotTaken as taken:
            raise await self._with_wider_alternatives(
                taken, diary, to_utc(form.day, form.start), meta.now
            ) from None
        except asyncpg.ExclusionViolationError:
            # The decider let it through but a backstop did not: treat it as a lost race.
            raise SlotTaken("the room was taken at the same moment", []) from None

    async def _booked(self, unit: BookingUnit, appointment_id: str) -> Booking:
        stream = await unit.views.locate(appointment_id)
        if stream is None:
            raise UnknownAppointment(appointment_id)
        return booking_on(await load_one(unit, self.days, stream), appointment_id, again=True)

    async def _with_wider_alternatives(
        self, taken: SlotTaken, diary: Diary, wanted: datetime, now: datetime
    ) -> SlotTaken:
        """The three nearest free slots, looking at the days around when this day is short of them."""
        if len(taken.alternatives) >= 3:
            return taken
        first = max(diary.day - timedelta(days=ALTERNATIVE_DAYS), now.date())
        last = diary.day + timedelta(days=ALTERNATIVE_DAYS)
        free = await self.free_slots(diary.place, diary.place_id, first, last, now)
        return SlotTaken(taken.reason, nearest_alternatives(wanted, free, 3))


async def days_a_load_changes(
    unit: BookingUnit, reference: CountyState, county: County, now: datetime
) -> tuple[DiaryDay, ...]:
    """The diary days from today holding appointments at the places ``county`` would change.

    Folded under the county in force, so a load is decided against what is booked there now.
    """
    if reference.county is None or reference.county == county:
        return ()
    stations, districts = places_changed(reference.county, county)
    diaries = await unit.views.placed_days(sorted(stations), sorted(districts), local_date(now))
    if not diaries:
        return ()
    in_force = reference.county
    days: Fold[DiaryDay, DiaryDayEvent] = Fold(
        initial=lambda stream: decider.initial_state(Diary.parse(stream), in_force),
        evolve=decider.evolve,
        narrow=decider.event_of,
        tag=f"diary-day:{reference.sha256}",
    )
    return tuple(day.state for day in await unit.load(days, [d.stream_id for d in diaries]))


def booking_on(day: Loaded[DiaryDay], appointment_id: str, *, again: bool = False) -> Booking:
    """The appointment as its day holds it now."""
    found = day.state.find(appointment_id)
    if found is None:
        raise UnknownAppointment(appointment_id)
    return Booking(day.state, found, again)
