"""Which read models a replay rebuilds, by what apply, and the command's answer to a name it does not know."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from schemas import envelope
from services.projections.adapters import replay
from services.projections.adapters.models import (
    FEEDS,
    MODEL_NAMES,
    MODELS,
    UnknownModel,
    covers,
    feeds_of,
    models_named,
    replay_apply,
)
from services.projections.main import CONSUMERS


def test_no_name_is_every_model_and_names_keep_the_models_order() -> None:
    assert (
        [m.name for m in models_named([])]
        == list(MODEL_NAMES)
        == ["history", "diary", "kpis", "texts", "availability", "waitlist"]
    )
    assert [m.name for m in models_named(["diary", "history"])] == ["history", "diary"]
    assert [m.name for m in models_named(["diary"])] == ["diary"]


def test_an_unknown_name_is_refused_naming_every_model() -> None:
    with pytest.raises(
        UnknownModel, match="no read model called 'rota': choose from history, diary, kpis, texts"
    ):
        models_named(["diary", "rota"])


def test_the_live_consumers_are_the_feeds_with_their_live_applies() -> None:
    assert [(c.name, c.topic) for c in CONSUMERS] == [(f.consumer, f.topic) for f in FEEDS]
    # Every table a consumer writes belongs to some model, so a full replay rebuilds all it writes.
    assert {f.consumer for f in FEEDS} == {c for m in MODELS for c in m.parts}


def test_a_replay_of_every_model_a_consumer_feeds_applies_with_its_live_apply() -> None:
    booking = next(f for f in FEEDS if f.consumer == "projections-booking")
    assert replay_apply(booking, models_named([])) == (booking.apply, booking.apply_batch)
    assert replay_apply(booking, models_named([]))[1] is booking.apply_batch
    roster = next(f for f in FEEDS if f.consumer == "projections-roster")
    assert replay_apply(roster, models_named(["history", "availability"])) == (
        roster.apply,
        roster.apply_batch,
    )


def test_a_replay_of_some_models_applies_only_their_parts_and_keeps_the_live_positions() -> None:
    diary = models_named(["diary"])
    assert [f.consumer for f in feeds_of(diary)] == ["projections-booking"]
    assert not covers(diary, "projections-booking")  # it feeds the history too
    booking = next(f for f in FEEDS if f.consumer == "projections-booking")
    assert replay_apply(booking, diary)[1] is not booking.apply_batch
    history = models_named(["history"])
    assert [f.consumer for f in feeds_of(history)] == [f.consumer for f in FEEDS]
    assert [covers(history, f.consumer) for f in FEEDS] == [False, False, False]
    kpis = models_named(["kpis"])
    assert [f.consumer for f in feeds_of(kpis)] == ["projections-booking", "projections-notifications"]
    assert not any(covers(kpis, f.consumer) for f in FEEDS)  # each feeds the history too
    texts = models_named(["texts"])
    assert [f.consumer for f in feeds_of(texts)] == ["projections-notifications"]
    assert not covers(texts, "projections-notifications")  # it feeds the history and the KPIs too
    available = models_named(["availability"])
    assert [f.consumer for f in feeds_of(available)] == ["projections-booking", "projections-roster"]
    assert not any(covers(available, f.consumer) for f in FEEDS)  # each feeds the history too


def test_the_command_refuses_an_unknown_model_naming_the_models() -> None:
    result = CliRunner().invoke(cli, ["replay", "diary", "rota"], env={"COLUMNS": "250"})
    assert result.exit_code == 2
    assert (
        "no read model called 'rota'" in result.output
        and "history, diary, kpis, texts, availability" in result.output
    )


def test_a_replay_fetch_fits_the_envelopes_cache_of_parsed_events() -> None:
    # Past the cache, an event checked against the contract was validated again when applied.
    assert replay.LANES * replay.BATCH_RECORDS <= envelope._PARSED_SIZE
