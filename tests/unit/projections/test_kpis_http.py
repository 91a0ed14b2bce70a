"""GET /kpis's own parts: the range asked for (or given), and the CSV of the rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import HTTPException

from services.common.london import local
from services.projections.adapters.kpis_http import DEFAULT_DAYS, MAX_DAYS, _csv, _range
from services.projections.domain.kpis import COLUMNS, District, summarise


def test_without_a_range_the_twelve_weeks_up_to_today_in_london_and_from_alone_runs_twelve_weeks() -> None:
    first, last = _range(None, None)
    assert last in {local(datetime.now(UTC)).date(), local(datetime.now(UTC) - timedelta(seconds=5)).date()}
    assert (last - first).days + 1 == DEFAULT_DAYS == 84
    assert _range(date(2027, 6, 7), None) == (date(2027, 6, 7), date(2027, 8, 29))
    assert _range(None, date(2027, 8, 29)) == (date(2027, 6, 7), date(2027, 8, 29))
    assert _range(date(2027, 6, 7), date(2027, 6, 7)) == (date(2027, 6, 7), date(2027, 6, 7))


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (date(2027, 6, 8), date(2027, 6, 7), "from"),
        (date(2027, 1, 1), date(2027, 1, 1) + timedelta(MAX_DAYS), "to"),
    ],
)
def test_a_range_backwards_or_too_long_is_refused_naming_the_field(
    first: date, last: date, field: str
) -> None:
    with pytest.raises(HTTPException) as refused:
        _range(first, last)
    assert refused.value.status_code == 422
    detail = cast(dict[str, Any], refused.value.detail)
    assert detail["errors"][0]["field"] == field


def test_the_csv_has_one_column_per_figure_and_leaves_a_figure_nobody_gave_empty() -> None:
    rows = summarise(
        [], {}, [District("dacorum", "Dacorum", date(2027, 6, 9))], date(2027, 6, 7), date(2027, 6, 13)
    )
    table = list(csv.reader(io.StringIO(_csv(rows))))
    assert table[0] == list(COLUMNS)
    shown = [dict(zip(table[0], line, strict=True)) for line in table[1:]]
    assert [(r["district_id"], r["period"], r["from"], r["to"]) for r in shown] == [
        ("dacorum", "week", "2027-06-07", "2027-06-13"),
        ("dacorum", "before-go-live", "2027-06-07", "2027-06-08"),
        ("dacorum", "after-go-live", "2027-06-09", "2027-06-13"),
        ("county", "week", "2027-06-07", "2027-06-13"),
    ]
    assert (shown[0]["booked"], shown[0]["satisfaction_mean"], shown[3]["week"], shown[1]["week"]) == (
        "0", "", "2027-W23", "",
    )  # fmt: skip
