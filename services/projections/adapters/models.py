"""The projections' read models, and which consumer feeds each of them, by what apply.

One table of facts serves the live consumers (``main.CONSUMERS``) and a replay
(``adapters.replay``): a consumer's live apply is the apply a full replay of its models
uses, so the two cannot apply a record differently. A replay of some models only applies,
for each consumer, the parts of its apply that write those models' tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg

from schemas.envelope import Envelope
from schemas.topics import BOOKING_EVENTS, NOTIFICATIONS_EVENTS, ROSTER_EVENTS
from services.common.consumer import Apply, ApplyBatch, Position
from services.projections.adapters import availability, batch, kpis, texts, waitlist
from services.projections.adapters.batch import Batch


@dataclass(frozen=True)
class Feed:
    """A live consumer (also its Kafka group): its topic and how it applies a record, or a fetch."""

    consumer: str
    topic: str
    apply: Apply
    apply_batch: ApplyBatch


def _with(apply_batch: ApplyBatch, *more: ApplyBatch) -> tuple[Apply, ApplyBatch]:
    """A consumer's apply (a record, a fetch): ``apply_batch``, then other models' parts, one transaction."""

    async def together(conn: asyncpg.Connection, records: Batch) -> None:
        await apply_batch(conn, records)
        for part in more:
            await part(conn, records)

    async def one(conn: asyncpg.Connection, env: Envelope, pos: Position) -> None:
        await together(conn, [(env, pos)])

    return one, together


# Consumer names are also the Kafka group ids. The read models need no handlers: each apply
# writes straight into the projections database, a whole Kafka fetch per transaction.
FEEDS: tuple[Feed, ...] = (
    Feed(
        "projections-booking",
        BOOKING_EVENTS,
        *_with(
            batch.apply_booking_events,
            kpis.fold_booking_events,
            availability.fold_county,
            waitlist.fold_booking_events,
        ),
    ),
    Feed("projections-roster", ROSTER_EVENTS, *_with(batch.record_events, availability.fold_roster)),
    Feed(
        "projections-notifications",
        NOTIFICATIONS_EVENTS,
        *_with(batch.record_events, kpis.record_scores, texts.fold_notifications),
    ),
)


@dataclass(frozen=True)
class Model:
    """A read model: its tables, and for each consumer feeding it the part of the apply that writes them."""

    name: str
    description: str
    tables: tuple[str, ...]
    parts: Mapping[str, ApplyBatch]


MODELS: tuple[Model, ...] = (
    Model(
        "history",
        "every event of every topic as received: appointment histories, the diary as it stood, the county",
        ("event_history",),
        {feed.consumer: batch.record_events for feed in FEEDS},
    ),
    Model(
        "diary",
        "the diary as it stands, and the days each appointment has been on",
        ("diary", "diary_days"),
        {"projections-booking": batch.fold_booking_events},
    ),
    Model(
        "kpis",
        "a line per appointment and the public's scores, counted into KPIs; the districts' go-live dates",
        ("kpi_appointments", "kpi_scores", "kpi_districts"),
        {"projections-booking": kpis.fold_booking_events, "projections-notifications": kpis.record_scores},
    ),
    Model(
        "texts",
        "each appointment's texts and their delivery state, the caller's replies, and call backs asked for",
        ("texts", "text_replies", "call_backs"),
        {"projections-notifications": texts.fold_notifications},
    ),
    Model(
        "availability",
        "the county's latest version and the roster's capacity duties and withdrawals, which free capacity"
        " is worked out from (with the diary) by booking's own rule",
        ("availability_county", "availability_duties", "availability_withdrawals"),
        {"projections-booking": availability.fold_county, "projections-roster": availability.fold_roster},
    ),
    Model(
        "waitlist",
        "who waits for each station and diary car, in order, since when, and the offers out",
        ("waitlist_entries",),
        {"projections-booking": waitlist.fold_booking_events},
    ),
)
MODEL_NAMES: tuple[str, ...] = tuple(m.name for m in MODELS)


class UnknownModel(ValueError):
    """A model name no read model has."""


def models_named(names: Sequence[str]) -> list[Model]:
    """The models named (every one when none is), in ``MODELS`` order; UnknownModel names the stranger."""
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown:
        strangers = ", ".join(repr(n) for n in unknown)
        raise UnknownModel(f"no read model called {strangers}: choose from {', '.join(MODEL_NAMES)}")
    return [m for m in MODELS if not names or m.name in names]


def feeds_of(models: Sequence[Model]) -> list[Feed]:
    """The consumers feeding any of ``models``, in ``FEEDS`` order."""
    return [f for f in FEEDS if any(f.consumer in m.parts for m in models)]


def covers(models: Sequence[Model], consumer: str) -> bool:
    """Whether ``models`` are every model ``consumer`` feeds (so its whole apply is theirs)."""
    return all(m in models for m in MODELS if consumer in m.parts)


def replay_apply(feed: Feed, models: Sequence[Model]) -> tuple[Apply, ApplyBatch]:
    """How a replay of ``models`` applies ``feed``'s records: its live apply when it feeds nothing else."""
    if covers(models, feed.consumer):
        return feed.apply, feed.apply_batch
    parts = [m.parts[feed.consumer] for m in MODELS if m in models and feed.consumer in m.parts]

    async def apply_batch(conn: asyncpg.Connection, records: Batch) -> None:
        for part in parts:
            await part(conn, records)

    async def apply(conn: asyncpg.Connection, env: Envelope, pos: Position) -> None:
        await apply_batch(conn, [(env, pos)])

    return apply, apply_batch
