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


def test_a_field_in_error_is_shown_as_govuk_frontend_shows_it() -> None:
    with TestClient(pages(FakeServices())) as client:
        sign_in(client, "ps-2710")
        page = client.get("/stations/cheshunt/diary", params={"at_date": "soon", "at_time": "17:00"})
    assert page.status_code == 422
    assert "<title>Error: " in page.text
    assert 'class="govuk-error-summary"' in page.text and 'href="#at_date"' in page.text
    assert 'class="govuk-input govuk-input--width-10 govuk-input--error"' in page.text
