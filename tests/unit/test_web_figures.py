"""The figures page, against canned projections answers."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.unit.test_web import PROJECTIONS, FakeServices, pages, sign_in
from web.pages.charts import Series, grouped_bars, nice_top

URLS = {"projections": PROJECTIONS, "booking": "http://booking.test", "roster": "http://roster.test"}


def kpi_row(
    district: str, period: str, week: str | None, first: str, last: str, **figures: Any
) -> dict[str, Any]:
    counts = {k: 0 for k in ("booked", "held_at_booked_time", "attended", "reassigned",
                             "rescheduled_by_police", "rescheduled_by_public", "cancelled_by_police",
                             "cancelled_by_public", "missed_by_public", "officer_no_shows",
                             "satisfaction_responses")}  # fmt: skip
    name = "Hertsmere" if district == "hertsmere" else "the whole county"
    return {"district_id": district, "district_name": name,
            "period": period, "week": week, "from": first, "to": last,
            "goes_live": "2015-03-09" if district == "hertsmere" else None,
            **counts, "satisfaction_mean": None, "days_to_appointment_mean": None,
            "days_to_appointment_median": None} | figures  # fmt: skip


def test_the_axis_tops_at_a_round_number_and_each_bar_is_as_tall_as_its_share_of_it() -> None:
    assert [nice_top(v) for v in (0, 1, 3, 7, 12, 150)] == [1, 1, 5, 10, 20, 200]
    chart = grouped_bars(["W33", "W34"], [Series("a", "#000"), Series("b", "#111")], [[4, 2], [0, 1]])
    heights = [b.height for b in chart.bars]
    assert heights[0] == 2 * heights[1] == 4 * heights[3] and heights[2] == 0
    assert [t[1] for t in chart.ticks] == ["0", "2.5", "5"]  # the axis runs to 5, above the largest
    assert chart.bars[0].words == "W33: a 4"


def test_a_supervisor_sees_a_districts_weeks_as_charts_and_tables_and_can_download_the_csv() -> None:
    services = FakeServices()
    seen: list[httpx.Request] = []

    def kpis(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("format") == "csv":
            return httpx.Response(
                200,
                text="district_id,booked\r\nhertsmere,3\r\n",
                headers={"content-disposition": 'attachment; filename="kpis-hertsmere.csv"'},
            )
        rows = [kpi_row("hertsmere", "week", "2027-W33", "2027-08-16", "2027-08-22", booked=3,
                        cancelled_by_police=1, cancelled_by_public=1, satisfaction_responses=2,
                        satisfaction_mean=4.5, satisfaction_4=1, satisfaction_5=1, capacity_offered=8,
                        capacity_used=2, capacity_use=0.25),
                kpi_row("hertsmere", "after-go-live", None, "2027-08-16", "2027-08-22", booked=3,
                        cancelled_by_police=1, cancelled_by_public=1)]  # fmt: skip
        return httpx.Response(200, json={"from": "2027-08-16", "to": "2027-08-22", "district_id": "hertsmere",
                                         "rows": rows})  # fmt: skip

    services.answers["/kpis"] = kpis
    query = {"district": "hertsmere", "from-day": "16", "from-month": "August", "from-year": "2027",
             "to-day": "22", "to-month": "8", "to-year": "2027"}  # fmt: skip
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        page = client.get("/figures", params=query)
        csv = client.get(
            "/figures.csv", params={"district": "hertsmere", "from": "2027-08-16", "to": "2027-08-22"}
        )

    assert page.status_code == 200
    assert dict(seen[0].url.params) == {"district": "hertsmere", "from": "2027-08-16", "to": "2027-08-22"}
    assert page.text.count("<svg") == 5 and page.text.count("<table") == 2
    # Use of capacity: its chart's bars and the table's words; a period nothing was offered in says so.
    assert "W33: Places offered 8" in page.text and "W33: Places used 2" in page.text
    assert "2 of 8 (25%)" in page.text and "None offered" in page.text
    assert "W33: Booked 3" in page.text and "W33: Cancelled by the public 1" in page.text
    assert "1 (33%)" in page.text and "4.5 from 2" in page.text and "After go-live" in page.text
    assert 'href="/figures.csv?district=hertsmere&amp;from=2027-08-16&amp;to=2027-08-22"' in page.text
    assert csv.status_code == 200 and csv.text == "district_id,booked\r\nhertsmere,3\r\n"
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["content-disposition"] == 'attachment; filename="kpis-hertsmere.csv"'
    assert seen[1].url.params["format"] == "csv"


def test_a_date_not_real_is_an_error_on_its_box_and_nothing_is_asked() -> None:
    services = FakeServices()
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        page = client.get("/figures", params={"from-day": "31", "from-month": "2", "from-year": "2027"})

    assert page.status_code == 422 and 'href="#from-day"' in page.text
    assert "/kpis" not in services.paths()


def test_an_officer_sees_no_figures() -> None:
    services = FakeServices()
    with TestClient(pages(services)) as client:
        sign_in(client, "pc-4021")
        figures, csv = client.get("/figures"), client.get("/figures.csv")

    assert figures.status_code == csv.status_code == 403
    assert services.paths() == []
