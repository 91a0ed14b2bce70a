"""The Jinja2 templates and static files, and rendering a page from a template.

The look is GOV.UK Frontend's: its styles, scripts, fonts and images are served from the
npm package the bootstrap installs (web/package.json, into web/node_modules), never copied
by hand, and its components come as Jinja macros from ``govuk-frontend-jinja``, whose
version targets the same GOV.UK Frontend release (templates import them as
``govuk_frontend_jinja/components/<name>/macro.html``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

HERE = Path(__file__).parent
STATIC = HERE / "static"
# GOV.UK Frontend's built files; APPOINTMENTS_GOVUK_FRONTEND_DIR points elsewhere (an image's copy).
GOVUK_FRONTEND = Path(
    os.environ.get("APPOINTMENTS_GOVUK_FRONTEND_DIR")
    or HERE / "node_modules" / "govuk-frontend" / "dist" / "govuk"
)
# Its style sheet asks for fonts and images under /assets (GOV.UK Frontend's default asset path).
GOVUK_ASSETS = GOVUK_FRONTEND / "assets"

_environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(HERE / "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    ),
    autoescape=select_autoescape(("html",)),
)
templates = Jinja2Templates(env=_environment)


def govuk_frontend_installed() -> bool:
    """Whether GOV.UK Frontend's built files are where the pages serve them from."""
    return (GOVUK_FRONTEND / "govuk-frontend.min.css").is_file()


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``template`` with ``context``."""
    return templates.TemplateResponse(request, template, context, status_code=status)
