"""The pages' GOV.UK Frontend: served from the installed npm package, its macros rendering the pages."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.unit.test_web import FakeServices, pages, sign_in
from web.rendering import GOVUK_FRONTEND, HERE


def test_the_installed_govuk_frontend_is_the_one_the_jinja_macros_target() -> None:
    installed = json.loads((GOVUK_FRONTEND.parents[1] / "package.json").read_text())["version"]
    wanted = json.loads((HERE / "package.json").read_text())["dependencies"]["govuk-frontend"]
    assert installed == wanted == "6.3.0"  # govuk-frontend-jinja 4.1.0's target


def test_govuk_frontends_styles_scripts_and_fonts_are_served_to_anyone_and_may_be_cached() -> None:
    with TestClient(pages(FakeServices())) as client:
        css = client.get("/govuk-frontend/govuk-frontend.min.css")
        script = client.get("/govuk-frontend/govuk-frontend.min.js")
        font = client.get("/assets/fonts/bold-b542beb274-v2.woff2")
        init = client.get("/static/init.js")
    assert css.status_code == 200 and ".govuk-button" in css.text
    assert "/assets/fonts/" in css.text  # the font path the /assets mount answers
    assert script.status_code == 200 and "initAll" in script.text
    assert font.status_code == 200 and font.content[:4] == b"wOF2"
    assert "initAll()" in init.text
    for asset in (css, script, font):
        assert asset.headers["cache-control"] == "public, max-age=3600"


def test_pages_are_govuk_frontend_pages_and_never_cached() -> None:
    with TestClient(pages(FakeServices())) as client:
        sign_in(client, "ps-2710")
        page = client.get("/")
    assert page.status_code == 200
    assert 'class="govuk-template"' in page.text
    assert '<link rel="stylesheet" href="/govuk-frontend/govuk-frontend.min.css">' in page.text
    assert "govuk-service-navigation" in page.text and "govuk-footer" in page.text
    assert page.headers["cache-control"] == "no-store"  # the pages carry personal data


def test_the_accessibility_statement_and_privacy_notice_are_open_to_anyone() -> None:
    with TestClient(pages(FakeServices())) as client:
        statement = client.get("/accessibility", follow_redirects=False)
        notice = client.get("/privacy", follow_redirects=False)
    assert (
        statement.status_code == 200 and "Accessibility statement for Station Appointments" in statement.text
    )
    assert notice.status_code == 200 and "Privacy notice" in notice.text
    assert 'href="/privacy"' in statement.text and 'href="/accessibility"' in notice.text  # footer links


def test_a_date_is_typed_in_govuk_frontends_date_input_and_a_wrong_box_is_shown_in_error() -> None:
    services = FakeServices()
    services.answer("/diaries/stations/cheshunt/2026-12-02", {"appointments": []})
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        params = {
            "day": "2026-12-02",
            "at-day": "30",
            "at-month": "feb",
            "at-year": "2026",
            "at_time": "17:00",
        }
        page = client.get("/stations/cheshunt/diary", params=params)
        assert services.calls == []
        typed = client.get("/stations/cheshunt/diary", params=params | {"at-day": "14", "at-month": "June"})
    assert page.status_code == 422
    assert "<title>Error: " in page.text
    assert 'class="govuk-error-summary"' in page.text and 'href="#at-day"' in page.text
    assert "The date must be a real date" in page.text
    assert 'class="govuk-input govuk-date-input__input govuk-input--width-2 govuk-input--error"' in page.text
    assert 'name="at-month" type="text" value="feb"' in page.text  # shown as typed
    # GOV.UK's date pattern: a month typed as its name is read; London's 5pm in June is 16:00 UTC.
    assert typed.status_code == 200 and "as it stood at 5pm on Sunday 14 June 2026" in typed.text
    assert services.calls[0].url.params["at"] == "2026-06-14T16:00:00+00:00"


def test_free_slots_days_are_typed_in_date_inputs_and_a_range_backwards_is_shown_on_the_last_day() -> None:
    services = FakeServices()
    services.answer("/stations/hertford/free-slots", [])
    with TestClient(pages(services)) as client:
        sign_in(client, "ps-2710")
        given = {"from-day": "14", "from-month": "6", "from-year": "2026"}
        page = client.get(
            "/stations/hertford/free-slots",
            params=given | {"to-day": "15", "to-month": "jun", "to-year": "2026"},
        )
        backwards = client.get(
            "/stations/hertford/free-slots",
            params=given | {"to-day": "1", "to-month": "6", "to-year": "2026"},
        )
    assert page.status_code == 200
    assert dict(services.calls[0].url.params) == {"from": "2026-06-14", "to": "2026-06-15"}
    assert backwards.status_code == 422
    assert (
        'href="#to-day"' in backwards.text
        and "The last day must be the same as or after the first day." in backwards.text
    )
    assert len(services.calls) == 1
